"""gateway: response-cache hits on the ledger (kind 'cache_hit', what they saved).

Revision ID: gw_0003_cache_hits
Revises: gw_0002_ledger_tags
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "gw_0003_cache_hits"
down_revision = "gw_0002_ledger_tags"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("gateway_ledger") as batch:
        batch.add_column(sa.Column("saved_nano_usd", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("gateway_ledger") as batch:
        batch.drop_column("saved_nano_usd")
