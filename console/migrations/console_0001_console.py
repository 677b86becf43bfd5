"""console: sign-in sessions and the daily usage rollup (facets)

Revision ID: console_0001
Revises:
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "console_0001"
down_revision = None
branch_labels = ("console",)
depends_on = None

MEASURES = (
    "requests",
    "ok",
    "errors",
    "rejected",
    "escalated",
    "input_tokens",
    "output_tokens",
    "cache_write_tokens",
    "cache_read_tokens",
    "cost_nano_usd",
)


def upgrade() -> None:
    op.create_table(
        "console_sessions",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "console_usage_facets",
        sa.Column("scope", sa.String(140), nullable=False),
        sa.Column("dim", sa.String(16), nullable=False),
        sa.Column("value", sa.String(128), nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        *[sa.Column(m, sa.BigInteger(), nullable=False, server_default="0") for m in MEASURES],
        sa.PrimaryKeyConstraint("scope", "dim", "value", "day", name="pk_console_usage_facets"),
    )
    op.create_index(
        "ix_console_usage_facets_scope_dim_day", "console_usage_facets", ["scope", "dim", "day"]
    )
    op.create_table(
        "console_rollup_state",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("last_id", sa.BigInteger(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("console_rollup_state")
    op.drop_table("console_usage_facets")
    op.drop_table("console_sessions")
