"""The ledger table: one row per request plus one per model attempt or escalation step.

Column names are a contract (governance reads them for budgets, metrics and exports):

    id                     autoincrement primary key
    kind                   "request" | "attempt" | "cache_hit" (an answer served from the
                           response cache: no model call, nothing charged, cost_nano_usd 0)
    request_id, step       the request; step 0 is the request row, attempts are 1, 2, ... in order
    created_at             UTC time the request started (same on all rows of a request)
    user_id, department, project, key_id   the principal
    source                 api | ask | eval | cli
    route                  the route that served the request (after any governance downgrade)
    requested_route        the route or alias the caller named
    tier                   the tier index (request row: the tier that answered; null if none)
    model_alias, model_id, provider        attempt: the model tried; request: the one that answered
    prompt_version, routing_version
    input_tokens, output_tokens, cache_write_5m_tokens, cache_write_1h_tokens, cache_read_tokens
                           (a cache-write total without the TTL split is counted as 5m)
    cost_nano_usd          exact cost in integer nano-USD (request row: sum of its attempts)
    latency_ms, ttft_ms    duration, and time to the first content event (streams only)
    retries, fallbacks, escalations        counts (request row: totals; attempt: its own)
    outcome                request: ok | error | rejected
                           attempt: ok | error | fallback | escalated
    error_class            stable error code (e.g. upstream_status_529, upstream_timeout)
    escalation_reason      why an attempt escalated; on a request row, why governance downgraded
    stream                 whether the caller streamed
    tag                    the caller's allocation tag (cost centre or task), null when none
    saved_nano_usd         cache_hit: what the served answer cost when it was made (what the
                           hit saved); null on every other row
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    false,
)

metadata = MetaData()

LEDGER_TABLE = "gateway_ledger"

ledger = Table(
    LEDGER_TABLE,
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("kind", String(16), nullable=False),
    Column("request_id", String(128), nullable=False),
    Column("step", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("user_id", String(128), nullable=False, server_default=""),
    Column("department", String(128), nullable=False, server_default=""),
    Column("project", String(128), nullable=False, server_default=""),
    Column("key_id", String(128), nullable=False, server_default=""),
    Column("source", String(16), nullable=False, server_default="api"),
    Column("route", String(128), nullable=False, server_default=""),
    Column("requested_route", String(128), nullable=False, server_default=""),
    Column("tier", Integer, nullable=True),
    Column("model_alias", String(128), nullable=False, server_default=""),
    Column("model_id", String(128), nullable=False, server_default=""),
    Column("provider", String(64), nullable=False, server_default=""),
    Column("prompt_version", String(128), nullable=True),
    Column("routing_version", String(32), nullable=False, server_default=""),
    Column("input_tokens", BigInteger, nullable=False, server_default="0"),
    Column("output_tokens", BigInteger, nullable=False, server_default="0"),
    Column("cache_write_5m_tokens", BigInteger, nullable=False, server_default="0"),
    Column("cache_write_1h_tokens", BigInteger, nullable=False, server_default="0"),
    Column("cache_read_tokens", BigInteger, nullable=False, server_default="0"),
    Column("cost_nano_usd", BigInteger, nullable=False, server_default="0"),
    Column("latency_ms", Float, nullable=False, server_default="0"),
    Column("ttft_ms", Float, nullable=True),
    Column("retries", Integer, nullable=False, server_default="0"),
    Column("fallbacks", Integer, nullable=False, server_default="0"),
    Column("escalations", Integer, nullable=False, server_default="0"),
    Column("outcome", String(16), nullable=False),
    Column("error_class", String(64), nullable=True),
    Column("escalation_reason", Text, nullable=True),
    Column("stream", Boolean, nullable=False, server_default=false()),
    Column("tag", String(128), nullable=True),
    Column("saved_nano_usd", BigInteger, nullable=True),
    Index("ix_gateway_ledger_request_id", "request_id"),
    Index("ix_gateway_ledger_created_at", "created_at"),
    Index("ix_gateway_ledger_department_created_at", "department", "created_at"),
    Index("ix_gateway_ledger_project_created_at", "project", "created_at"),
)
