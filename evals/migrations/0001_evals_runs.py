"""evals: eval runs and their per-question results.

Revision ID: evals_0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "evals_0001"
down_revision = None
branch_labels = ("evals",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "eval_runs",
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
    )
    op.create_index("ix_eval_runs_dataset_created", "eval_runs", ["dataset_name", "created_at"])
    op.create_table(
        "eval_results",
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


def downgrade() -> None:
    op.drop_table("eval_results")
    op.drop_index("ix_eval_runs_dataset_created", table_name="eval_runs")
    op.drop_table("eval_runs")
