"""Governance tables (migrations: ``gateway/migrations/gov_*.py``, Alembic branch ``governance``).

governance_api_keys            one row per key: sha256 of the key, never the key itself
governance_rate_limits         requests/tokens per minute by scope (key|department|model)
governance_budgets             budget definitions (department|project|user, day|month)
governance_budget_usage        spent and reserved nano-USD per budget and period window
governance_budget_reservations open reservations (released on settle, or swept when stale)
governance_prompt_versions     every prompt version ever seen (id, content hash, text)
governance_prompt_activations  append-only history of activations and rollbacks
governance_audit_log           the hash-chained audit records (append-only)
governance_audit_head          the chain's last sequence number and hash (one row)
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

GENESIS_HASH = "0" * 64

api_keys = Table(
    "governance_api_keys",
    metadata,
    Column("id", String(32), primary_key=True),  # the visible prefix, e.g. lg_ab12cd34
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("user_id", String(128), nullable=False),
    Column("department", String(128), nullable=False, server_default=""),
    Column("project", String(128), nullable=False, server_default=""),
    Column("groups", Text, nullable=False, server_default="[]"),
    Column("role", String(16), nullable=False),
    Column("allowed_routes", Text, nullable=False, server_default="[]"),
    Column("allowed_models", Text, nullable=False, server_default="[]"),
    Column("description", Text, nullable=False, server_default=""),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(128), nullable=False, server_default=""),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    Column("tag", String(128), nullable=True),  # default allocation tag of its requests
)

rate_limits = Table(
    "governance_rate_limits",
    metadata,
    Column("scope", String(16), nullable=False),
    Column("subject", String(128), nullable=False),
    Column("requests_per_minute", Integer, nullable=True),
    Column("tokens_per_minute", BigInteger, nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("scope", "subject"),
)

budgets = Table(
    "governance_budgets",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("scope", String(16), nullable=False),
    Column("name", String(128), nullable=False),
    Column("period", String(8), nullable=False),
    Column("hard_limit_nano", BigInteger, nullable=False),
    Column("soft_limit_nano", BigInteger, nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    # limits are nano-units of this currency; a non-USD budget is enforced at the rate in force
    Column("currency", String(3), nullable=False, server_default="USD"),
    UniqueConstraint("scope", "name", name="uq_governance_budgets_scope_name"),
)

budget_usage = Table(
    "governance_budget_usage",
    metadata,
    Column("budget_id", Integer, nullable=False),
    Column("window", String(16), nullable=False),
    Column("spent_nano", BigInteger, nullable=False, server_default="0"),
    Column("reserved_nano", BigInteger, nullable=False, server_default="0"),
    PrimaryKeyConstraint("budget_id", "window"),
)

budget_reservations = Table(
    "governance_budget_reservations",
    metadata,
    Column("id", String(40), nullable=False),
    Column("budget_id", Integer, nullable=False),
    Column("window", String(16), nullable=False),
    Column("amount_nano", BigInteger, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("rate", String(64), nullable=True),  # e.g. "CNY 7.2 (2026-06-01)": the rate used
    PrimaryKeyConstraint("id", "budget_id"),
    Index("ix_governance_budget_reservations_created_at", "created_at"),
)

prompt_versions = Table(
    "governance_prompt_versions",
    metadata,
    Column("prompt_id", String(128), nullable=False),
    Column("version", String(16), nullable=False),
    Column("text", Text, nullable=False),
    Column("source", Text, nullable=False, server_default=""),
    Column("first_seen_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("prompt_id", "version"),
)

prompt_activations = Table(
    "governance_prompt_activations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("prompt_id", String(128), nullable=False),
    Column("version", String(16), nullable=False),
    Column("action", String(16), nullable=False),  # activate | rollback
    Column("activated_by", String(128), nullable=False, server_default=""),
    Column("activated_at", DateTime(timezone=True), nullable=False),
    Index("ix_governance_prompt_activations_prompt", "prompt_id", "id"),
)

audit_log = Table(
    "governance_audit_log",
    metadata,
    Column(
        "seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False
    ),
    Column("request_id", String(128), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("payload", Text, nullable=False),  # canonical JSON of the (redacted) record
    Column("content_hash", String(64), nullable=False),  # sha256(payload)
    Column("prev_hash", String(64), nullable=False),  # record_hash of the previous record
    Column("record_hash", String(64), nullable=False),  # sha256(prev_hash + content_hash)
    Index("ix_governance_audit_log_request_id", "request_id"),
)

audit_head = Table(
    "governance_audit_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", BigInteger, nullable=False),
    Column("record_hash", String(64), nullable=False),
)

# MCP tool grants (governance.tool_grants): deny by default, one row per grant.
tool_grants = Table(
    "governance_tool_grants",
    metadata,
    Column("scope", String(16), nullable=False),  # key | department | project
    Column("subject", String(128), nullable=False),
    Column("server", String(64), nullable=False),
    Column("tool", String(128), nullable=False),  # a tool name, or * for every tool of the server
    Column("write", Boolean, nullable=False),  # also the server's write tools
    Column("granted_by", String(128), nullable=False, server_default=""),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("scope", "subject", "server", "tool"),
)
