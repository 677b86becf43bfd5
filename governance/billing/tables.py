"""Billing tables (migration ``governance/migrations/gov_0002_billing.py``).

governance_fx_rates          company-currency rates to USD: currency, units per USD, the date
                             from which the rate is in force, where it came from (append-only)
governance_billing_closes    one row per closed month: when, by whom, the ledger's highest row
                             id seen (rows above it that fall in the month are late corrections)
governance_billing_documents the frozen invoice documents of a closed month: bytes and sha256
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
)

metadata = MetaData()

fx_rates = Table(
    "governance_fx_rates",
    metadata,
    Column("currency", String(3), nullable=False),
    Column("effective_from", Date, nullable=False),
    # a decimal string (exact): how many units of ``currency`` one USD buys
    Column("per_usd", String(40), nullable=False),
    Column("source", String(256), nullable=False, server_default=""),
    Column("created_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("currency", "effective_from"),
)

billing_closes = Table(
    "governance_billing_closes",
    metadata,
    Column("month", String(7), primary_key=True),  # YYYY-MM
    Column("closed_at", DateTime(timezone=True), nullable=False),
    Column("closed_by", String(128), nullable=False, server_default=""),
    Column("ledger_watermark", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
)

billing_documents = Table(
    "governance_billing_documents",
    metadata,
    Column("month", String(7), nullable=False),
    Column("scope", String(16), nullable=False),  # department | project
    Column("subject", String(128), nullable=False),
    Column("fmt", String(8), nullable=False),  # json | csv | html
    Column("body", LargeBinary, nullable=False),
    Column("sha256", String(64), nullable=False),
    PrimaryKeyConstraint("month", "scope", "subject", "fmt"),
)
