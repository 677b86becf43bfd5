"""Ledger rows built from what a request went through (see ``tables`` for the columns)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

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


def row_from_json(data: dict[str, Any]) -> LedgerRow:
    """A row as orjson wrote it (the request journal's lines, the insert process's batches):
    its time, written as RFC 3339 text, a ``datetime`` again."""
    created = data["created_at"]
    if isinstance(created, str):
        data = {**data, "created_at": datetime.fromisoformat(created)}
    return LedgerRow(**data)


def _with_tokens(row: LedgerRow, usage: Usage) -> LedgerRow:
    writes = cache_write_split(usage)
    row.input_tokens = usage.input_tokens
    row.output_tokens = usage.output_tokens
    row.cache_write_5m_tokens = writes.five_minutes
    row.cache_write_1h_tokens = writes.one_hour
    row.cache_read_tokens = usage.cache_read_input_tokens
    return row


def ledger_rows(facts: RequestFacts) -> list[LedgerRow]:
    """The request row (step 0) followed by one row per attempt (steps 1..n)."""
    ctx = facts.ctx
    p = ctx.principal
    common: dict[str, Any] = {
        "request_id": ctx.request_id,
        "created_at": facts.started_at,
        "user_id": p.user_id,
        "department": p.department,
        "project": p.project,
        "key_id": p.key_id,
        "source": ctx.source,
        "route": facts.route,
        "requested_route": ctx.route,
        "prompt_version": ctx.prompt_version,
        "routing_version": ctx.routing_version,
        "stream": facts.stream,
        "tag": p.tag or None,
    }
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
    request = _with_tokens(
        LedgerRow(
            kind="request",
            step=0,
            outcome=outcome,
            tier=answered.tier if answered else None,
            model_alias=answered.model_alias if answered else "",
            model_id=answered.model_id if answered else "",
            provider=answered.provider if answered else "",
            cost_nano_usd=cost,
            latency_ms=facts.latency_ms,
            ttft_ms=facts.ttft_ms,
            retries=retries,
            fallbacks=fallbacks,
            escalations=escalations,
            error_class=None if facts.error is None else error_class(facts.error),
            escalation_reason=facts.downgraded_reason,
            **common,
        ),
        total,
    )
    rows = [request]
    for step, a in enumerate(attempts, start=1):
        rows.append(
            _with_tokens(
                LedgerRow(
                    kind="attempt",
                    step=step,
                    outcome=a.outcome,
                    tier=a.tier,
                    model_alias=a.model_alias,
                    model_id=a.model_id,
                    provider=a.provider,
                    cost_nano_usd=a.cost_nano_usd,
                    latency_ms=a.latency_ms,
                    ttft_ms=a.ttft_ms,
                    retries=a.retries,
                    fallbacks=1 if a.outcome == "fallback" else 0,
                    escalations=1 if a.outcome == "escalated" else 0,
                    error_class=a.error_class,
                    escalation_reason=a.escalation_reason,
                    **common,
                ),
                a.usage,
            )
        )
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
