"""The evals package's SQL tables (its own MetaData; migrations in ``evals/migrations/``)."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

eval_runs = sa.Table(
    "eval_runs",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("label", sa.String(200), nullable=False, server_default=""),
    sa.Column("dataset_name", sa.String(200), nullable=False),
    sa.Column("dataset_path", sa.Text, nullable=False),
    sa.Column("dataset_sha256", sa.String(64), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("finished_at", sa.Float, nullable=True),
    sa.Column("n_items", sa.Integer, nullable=False),
    sa.Column("snapshot", sa.JSON, nullable=False),
    sa.Column("summary", sa.JSON, nullable=True),
    sa.Column("options", sa.JSON, nullable=False),
    sa.Index("ix_eval_runs_dataset_created", "dataset_name", "created_at"),
)

eval_results = sa.Table(
    "eval_results",
    metadata,
    sa.Column(
        "run_id",
        sa.String(64),
        sa.ForeignKey("eval_runs.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("item_id", sa.String(200), primary_key=True),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("ok", sa.Boolean, nullable=False),
    sa.Column("cost_usd", sa.Float, nullable=False, server_default="0"),
    sa.Column("wall_ms", sa.Float, nullable=False, server_default="0"),
    sa.Column("record", sa.JSON, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
)
