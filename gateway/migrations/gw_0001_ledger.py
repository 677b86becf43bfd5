"""gateway: the ledger table (one row per request and per model attempt).

Revision ID: gw_0001
Revises:
Create Date: 2026-06-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "gw_0001"
down_revision = None
branch_labels = ("gateway",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "gateway_ledger",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("request_id", sa.String(128), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.String(128), nullable=False, server_default=""),
        sa.Column("department", sa.String(128), nullable=False, server_default=""),
        sa.Column("project", sa.String(128), nullable=False, server_default=""),
        sa.Column("key_id", sa.String(128), nullable=False, server_default=""),
        sa.Column("source", sa.String(16), nullable=False, server_default="api"),
        sa.Column("route", sa.String(128), nullable=False, server_default=""),
        sa.Column("requested_route", sa.String(128), nullable=False, server_default=""),
        sa.Column("tier", sa.Integer(), nullable=True),
        sa.Column("model_alias", sa.String(128), nullable=False, server_default=""),
        sa.Column("model_id", sa.String(128), nullable=False, server_default=""),
        sa.Column("provider", sa.String(64), nullable=False, server_default=""),
        sa.Column("prompt_version", sa.String(128), nullable=True),
        sa.Column("routing_version", sa.String(32), nullable=False, server_default=""),
        sa.Column("input_tokens", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("output_tokens", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("cache_write_5m_tokens", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("cache_write_1h_tokens", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("cache_read_tokens", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("cost_nano_usd", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("latency_ms", sa.Float(), nullable=False, server_default="0"),
        sa.Column("ttft_ms", sa.Float(), nullable=True),
        sa.Column("retries", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("fallbacks", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("escalations", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("error_class", sa.String(64), nullable=True),
        sa.Column("escalation_reason", sa.Text(), nullable=True),
        sa.Column("stream", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_index("ix_gateway_ledger_request_id", "gateway_ledger", ["request_id"])
    op.create_index("ix_gateway_ledger_created_at", "gateway_ledger", ["created_at"])
    op.create_index(
        "ix_gateway_ledger_department_created_at", "gateway_ledger", ["department", "created_at"]
    )
    op.create_index(
        "ix_gateway_ledger_project_created_at", "gateway_ledger", ["project", "created_at"]
    )


def downgrade() -> None:
    op.drop_table("gateway_ledger")
