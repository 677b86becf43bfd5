"""governance: MCP tool grants per key, department and project (deny by default).

Revision ID: gov_0003_tool_grants
Revises: gov_0002_billing
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "gov_0003_tool_grants"
down_revision = "gov_0002_billing"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "governance_tool_grants",
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("subject", sa.String(128), nullable=False),
        sa.Column("server", sa.String(64), nullable=False),
        sa.Column("tool", sa.String(128), nullable=False),
        sa.Column("write", sa.Boolean(), nullable=False),
        sa.Column("granted_by", sa.String(128), nullable=False, server_default=""),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("scope", "subject", "server", "tool"),
    )


def downgrade() -> None:
    op.drop_table("governance_tool_grants")
