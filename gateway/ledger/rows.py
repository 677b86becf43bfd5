"""Ledger rows built from what a request went through (see ``tables`` for the columns)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

import orjson

from gateway.hooks import RequestFacts
from gateway.pricing import cache_write_split
from gateway.resilience.trace import error_class
from gateway.types import Usage
from kernel.principal import Principal


@dataclass(slots=True)
class LedgerRow:
    kind: str
    request_id: str
    step: int
    created_at: datetime
    outcome: str
    user_id: str = ""
    department: str = ""
    project: str = ""
    key_id: str = ""
    source: str = "api"
    route: str = ""
    requested_route: str = ""
    tier: int | None = None
    model_alias: str = ""
    model_id: str = ""
    provider: str = ""
    prompt_version: str | None = None
    routing_version: str = ""
    input_tokens: int = 0
    output_tokens: int = 0
    cache_write_5m_tokens: int = 0
    cache_write_1h_tokens: int = 0
    cache_read_tokens: int = 0
    cost_nano_usd: int = 0
    latency_ms: float = 0.0
    ttft_ms: float | None = None
    retries: int = 0
    fallbacks: int = 0
    escalations: int = 0
    error_class: str | None = None
    escalation_reason: str | None = None
    stream: bool = False
    tag: str | None = None
    saved_nano_usd: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in ROW_FIELDS}


ROW_FIELDS = tuple(f.name for f in fields(LedgerRow))
RowValues = tuple[Any, ...]  # a row's values in ROW_FIELDS' order


def row_from_json(data: list[Any] | dict[str, Any]) -> LedgerRow:
    """A row as orjson wrote it (the request journal's lines, the insert process's batches):
    an array of the values in ``ROW_FIELDS``' order (``pack``), or an object of them (the
    journals of earlier versions); its time, written as RFC 3339 text, a ``datetime`` again."""
    row = LedgerRow(*data) if isinstance(data, list) else LedgerRow(**data)
    if isinstance(row.created_at, str):
        row.created_at = datetime.fromisoformat(row.created_at)
    return row


def row_values(row: LedgerRow) -> RowValues:
    return tuple(getattr(row, name) for name in ROW_FIELDS)


def pack(values: Sequence[RowValues]) -> bytes:
    """Rows as JSON arrays, datetimes as RFC 3339 (orjson: about a microsecond a row)."""
    return orjson.dumps(values)


def ledger_rows(facts: RequestFacts) -> list[LedgerRow]:
    """The request row (step 0) followed by one row per attempt (steps 1..n)."""
    return [LedgerRow(*values) for values in ledger_values(facts)]


def ledger_values(facts: RequestFacts) -> list[RowValues]:
    """``ledger_rows``' rows as tuples of their values in ``ROW_FIELDS``' order: what the
    request's path packs for the insert process and the journal (a tuple costs a fraction of
    a 34-field dataclass to build and to serialize). Each tuple below lists the fields in the
    dataclass's order; ``tests/gateway/test_ledger_rows.py`` holds each value to its name."""
    ctx = facts.ctx
    p = ctx.principal
    attempts = facts.attempts
    total = Usage.total([a.usage for a in attempts])
    # The request's sums in one pass (a generator per sum was a call each, on every request).
    answered = None
    cost = retries = fallbacks = escalations = 0
    for a in attempts:
        cost += a.cost_nano_usd
        retries += a.retries
        if a.outcome == "ok":
            answered = a
        elif a.outcome == "fallback":
            fallbacks += 1
        elif a.outcome == "escalated":
            escalations += 1
    if facts.rejected:
        outcome = "rejected"
    elif facts.error is not None or answered is None:
        outcome = "error"
    else:
        outcome = "ok"
    rid, at, tag = ctx.request_id, facts.started_at, p.tag or None
    who = (p.user_id, p.department, p.project, p.key_id, ctx.source, facts.route, ctx.route)
    writes = cache_write_split(total)
    rows: list[RowValues] = [
        (
            "request", rid, 0, at, outcome, *who,
            answered.tier if answered else None,
            answered.model_alias if answered else "",
            answered.model_id if answered else "",
            answered.provider if answered else "",
            ctx.prompt_version, ctx.routing_version,
            total.input_tokens, total.output_tokens, writes.five_minutes, writes.one_hour,
            total.cache_read_input_tokens,
            cost, facts.latency_ms, facts.ttft_ms, retries, fallbacks, escalations,
            None if facts.error is None else error_class(facts.error),
            facts.downgraded_reason, facts.stream, tag, None,
        )
    ]  # fmt: skip
    for step, a in enumerate(attempts, start=1):
        u = a.usage
        writes = cache_write_split(u)
        rows.append(
            (
                "attempt", rid, step, at, a.outcome, *who,
                a.tier, a.model_alias, a.model_id, a.provider,
                ctx.prompt_version, ctx.routing_version,
                u.input_tokens, u.output_tokens, writes.five_minutes, writes.one_hour,
                u.cache_read_input_tokens,
                a.cost_nano_usd, a.latency_ms, a.ttft_ms, a.retries,
                1 if a.outcome == "fallback" else 0, 1 if a.outcome == "escalated" else 0,
                a.error_class, a.escalation_reason, facts.stream, tag, None,
            )
        )  # fmt: skip
    return rows


def cache_hit_row(
    *,
    request_id: str,
    at: datetime,
    principal: Principal,
    source: str,
    route: str,
    model: str,
    saved_nano_usd: int,
    latency_ms: float,
) -> LedgerRow:
    """The row of an answer served from the response cache: no model call and nothing charged,
    but the requests and what they saved are counted (savings' ``without_response_cache``)."""
    return LedgerRow(
        kind="cache_hit",
        request_id=request_id,
        step=0,
        created_at=at,
        outcome="ok",
        user_id=principal.user_id,
        department=principal.department,
        project=principal.project,
        key_id=principal.key_id,
        source=source,
        route=route,
        requested_route=route,
        model_alias=model,
        latency_ms=latency_ms,
        tag=principal.tag or None,
        saved_nano_usd=saved_nano_usd,
    )
