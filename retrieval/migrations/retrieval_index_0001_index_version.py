"""retrieval_index: the index version of each collection

Revision ID: retrieval_index_0001
Revises:
Create Date: 2026-06-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "retrieval_index_0001"
down_revision = None
branch_labels = ("retrieval_index",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "retrieval_index_version",
        sa.Column("collection", sa.String(200), primary_key=True),
        sa.Column("counter", sa.BigInteger(), nullable=False),
        sa.Column("token", sa.String(32), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("retrieval_index_version")
