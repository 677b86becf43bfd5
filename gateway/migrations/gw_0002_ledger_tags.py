"""gateway: an allocation tag (cost centre or task) on every ledger row.

Revision ID: gw_0002_ledger_tags
Revises: gw_0001
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "gw_0002_ledger_tags"
down_revision = "gw_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("gateway_ledger") as batch:
        batch.add_column(sa.Column("tag", sa.String(128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("gateway_ledger") as batch:
        batch.drop_column("tag")
