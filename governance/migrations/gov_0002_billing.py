"""governance: billing (rates, closed months, frozen invoices), budget currency, reservation rate.

Revision ID: gov_0002_billing
Revises: gov_0001
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "gov_0002_billing"
down_revision = "gov_0001"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "governance_fx_rates",
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("per_usd", sa.String(40), nullable=False),
        sa.Column("source", sa.String(256), nullable=False, server_default=""),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("currency", "effective_from"),
    )
    op.create_table(
        "governance_billing_closes",
        sa.Column("month", sa.String(7), primary_key=True),
        sa.Column("closed_at", TS, nullable=False),
        sa.Column("closed_by", sa.String(128), nullable=False, server_default=""),
        sa.Column("ledger_watermark", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
    )
    op.create_table(
        "governance_billing_documents",
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("subject", sa.String(128), nullable=False),
        sa.Column("fmt", sa.String(8), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("month", "scope", "subject", "fmt"),
    )
    with op.batch_alter_table("governance_budgets") as batch:
        batch.add_column(sa.Column("currency", sa.String(3), nullable=False, server_default="USD"))
    with op.batch_alter_table("governance_budget_reservations") as batch:
        batch.add_column(sa.Column("rate", sa.String(64), nullable=True))
    with op.batch_alter_table("governance_api_keys") as batch:
        batch.add_column(sa.Column("tag", sa.String(128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("governance_api_keys") as batch:
        batch.drop_column("tag")
    with op.batch_alter_table("governance_budget_reservations") as batch:
        batch.drop_column("rate")
    with op.batch_alter_table("governance_budgets") as batch:
        batch.drop_column("currency")
    op.drop_table("governance_billing_documents")
    op.drop_table("governance_billing_closes")
    op.drop_table("governance_fx_rates")
