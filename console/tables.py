"""The console's tables: sign-in sessions and the usage rollup with its watermark.

``console_usage_facets`` holds the sums of the ledger's request rows per scope, grouping, value
and day; ``console_rollup_state`` the id of the last ledger row folded in. The usage pages read
only these, never the ledger itself.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
)

metadata = MetaData()

sessions = Table(
    "console_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("key_id", String(32), nullable=False),
    Column("csrf", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("ended_at", DateTime(timezone=True), nullable=True),
)

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
KEY = ("scope", "dim", "value", "day")

# One row per (scope, dimension, value, day): ``scope`` is "" (everyone), "department:<name>"
# or "user:<id>"; ``dim`` one of the groupings a page of that scope offers. A page reads one
# scope and one dimension over a range of days: a few hundred rows, whatever the ledger holds.
usage_facets = Table(
    "console_usage_facets",
    metadata,
    Column("scope", String(140), nullable=False),
    Column("dim", String(16), nullable=False),
    Column("value", String(128), nullable=False),
    Column("day", String(10), nullable=False),
    *[Column(m, BigInteger, nullable=False, server_default="0") for m in MEASURES],
    PrimaryKeyConstraint(*KEY, name="pk_console_usage_facets"),
    Index("ix_console_usage_facets_scope_dim_day", "scope", "dim", "day"),
)

rollup_state = Table(
    "console_rollup_state",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("last_id", BigInteger, nullable=False),
)
