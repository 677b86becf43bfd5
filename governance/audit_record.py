"""What one audit record holds, built from a finished gateway request (before redaction).

``raw_record`` runs on the request's path and only copies references; ``redact_record`` runs in
the audit writer's thread and replaces every content string with its redacted form, so no
personal data or secret reaches the database.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Protocol

from gateway.hooks import RequestFacts
from gateway.types import AttemptRecord, InvocationResult
from kernel.errors import ApiError


class JsonRedactor(Protocol):
    def redact(self, text: str) -> str: ...

    def redact_json(self, value: Any, key: str | None = None) -> Any: ...


def outcome_of(result: InvocationResult | None, error: BaseException | None, admitted: bool) -> str:
    if error is None and result is not None:
        return "ok"
    if not admitted:
        return "rejected"
    return "error"


def _attempt(a: AttemptRecord) -> dict[str, Any]:
    return {
        "tier": a.tier,
        "model": a.model_alias,
        "model_id": a.model_id,
        "provider": a.provider,
        "outcome": a.outcome,
        "error_class": a.error_class,
        "escalation_reason": a.escalation_reason,
        "retries": a.retries,
        "cost_nano_usd": a.cost_nano_usd,
        "usage": a.usage.model_dump(),
        "latency_ms": round(a.latency_ms, 3),
    }


def raw_record(
    facts: RequestFacts, *, admitted: bool, now: datetime | None = None
) -> tuple[str, datetime, dict[str, Any]]:
    """(request id, time, payload) with content not yet redacted."""
    ctx, result, error = facts.ctx, facts.result, facts.error
    p = ctx.principal
    attempts = facts.attempts
    req = ctx.request
    request: dict[str, Any] = {
        "model": req.model,
        "system": req.system,
        "messages": req.messages,
        "max_tokens": req.max_tokens,
        "temperature": req.temperature,
        "top_p": req.top_p,
        "stop_sequences": req.stop_sequences,
        "tools": req.tools,
        "tool_choice": req.tool_choice,
    }
    payload: dict[str, Any] = {
        "request_id": ctx.request_id,
        "time": (now or datetime.now(UTC)).isoformat(),
        "source": ctx.source,
        "principal": {
            "user": p.user_id,
            "department": p.department,
            "project": p.project,
            "key_id": p.key_id,
            "role": p.role.value,
        },
        "requested_route": ctx.route,
        "route": facts.route,
        "downgraded_reason": facts.downgraded_reason,
        "prompt_version": ctx.prompt_version,
        "routing_version": ctx.routing_version,
        "models_tried": [_attempt(a) for a in attempts],
        "answered_by": result.response.model_alias if result is not None else None,
        "request": request,
        "response": None,
        "usage": None,
        "cost_nano_usd": sum(a.cost_nano_usd for a in attempts),
        "latency_ms": round(result.latency_ms, 3) if result is not None else None,
        "outcome": outcome_of(result, error, admitted),
        "error": None,
        "verdict": None,
    }
    if result is not None:
        payload["response"] = {
            "content": result.response.content,
            "stop_reason": result.response.stop_reason,
            "model_id": result.response.model_id,
        }
        payload["usage"] = result.usage.model_dump()
        if result.final_verdict is not None:
            payload["verdict"] = {
                "ok": result.final_verdict.ok,
                "reason": result.final_verdict.reason,
            }
    if error is not None:
        payload["error"] = {
            "code": error.code if isinstance(error, ApiError) else "internal_error",
            "class": type(error).__name__,
            "message": error.message if isinstance(error, ApiError) else str(error),
        }
    return ctx.request_id, now or datetime.now(UTC), payload


def redact_record(payload: dict[str, Any], redactor: JsonRedactor) -> dict[str, Any]:
    """The payload with the request, response, error message and verdict reason redacted."""
    out = dict(payload)
    out["request"] = redactor.redact_json(payload["request"])
    if payload.get("response") is not None:
        out["response"] = redactor.redact_json(payload["response"])
    if payload.get("error") is not None:
        out["error"] = {**payload["error"], "message": redactor.redact(payload["error"]["message"])}
    if payload.get("verdict") is not None:
        out["verdict"] = {
            **payload["verdict"],
            "reason": redactor.redact(payload["verdict"]["reason"]),
        }
    if payload.get("downgraded_reason"):
        out["downgraded_reason"] = redactor.redact(payload["downgraded_reason"])
    out["models_tried"] = [
        {**a, "escalation_reason": redactor.redact(a["escalation_reason"])}
        if a.get("escalation_reason")
        else a
        for a in payload["models_tried"]
    ]
    return out
