"""The console's tables: sign-in sessions and the usage rollup with its watermark.

``console_usage_daily`` holds one row per (day, department, project, user, model, route, tier)
with the sums of the ledger's request rows; ``console_rollup_state`` the id of the last ledger
row folded in. The usage pages read only these, never the ledger itself.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
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

DIMENSIONS = ("day", "department", "project", "user_id", "model", "route", "tier")
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

usage_daily = Table(
    "console_usage_daily",
    metadata,
    Column("day", String(10), nullable=False),
    Column("department", String(128), nullable=False),
    Column("project", String(128), nullable=False),
    Column("user_id", String(128), nullable=False),
    Column("model", String(128), nullable=False),
    Column("route", String(128), nullable=False),
    Column("tier", Integer, nullable=False),  # -1: no tier answered
    *[Column(m, BigInteger, nullable=False, server_default="0") for m in MEASURES],
    PrimaryKeyConstraint(*DIMENSIONS, name="pk_console_usage_daily"),
    Index("ix_console_usage_daily_department_day", "department", "day"),
    Index("ix_console_usage_daily_user_day", "user_id", "day"),
)

rollup_state = Table(
    "console_rollup_state",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("last_id", BigInteger, nullable=False),
)
