"""Every MCP tool call on the hash-chained audit log and in the metrics.

A record holds who called which tool of which server, its class, the outcome and latency, the
arguments (as ``request``) and the result (as ``response``), and the model call that asked for
the tool (``linked_request_id``) when the client said so. It goes through the same audit
writer as model calls: off the response's path, PII-redacted (arguments and result) before it
reaches disk, chained in batches, flushed at shutdown. Both are capped in size first, so one
huge result cannot bloat the chain.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from governance.audit_writer import Pending
from governance.metrics import GovernanceMetrics
from kernel.principal import Principal

SOURCE = "mcp"
CAP_CHARS = 4_000  # per field (arguments, result)


def capped(value: Any) -> Any:
    """``value``, or the head of its JSON cut at a space (no half of a word, so a redactor
    still sees whole e-mail addresses and numbers) when it is longer than ``CAP_CHARS``."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    if len(text) <= CAP_CHARS:
        return value
    head = text[:CAP_CHARS].rsplit(" ", 1)[0]
    return {"truncated": True, "chars": len(text), "head": head}


def tool_record(
    *,
    request_id: str,
    principal: Principal,
    server: str,
    tool: str,
    kind: str,
    arguments: dict[str, Any],
    result: dict[str, Any],
    outcome: str,
    seconds: float,
    linked_request_id: str | None,
) -> tuple[str, datetime, dict[str, Any]]:
    """The audit record of one call (the writer redacts ``request`` and ``response``)."""
    at = datetime.now(UTC)
    return (
        request_id,
        at,
        {
            "request_id": request_id,
            "time": at.isoformat(),
            "source": SOURCE,
            "principal": {
                "user": principal.user_id,
                "department": principal.department,
                "project": principal.project,
                "key_id": principal.key_id,
                "role": principal.role.value,
            },
            "route": "-",
            "outcome": outcome,
            "tool": {"server": server, "name": tool, "kind": kind},
            "request": {"arguments": capped(arguments)},
            "response": capped(result),
            "models_tried": [],
            "latency_ms": round(seconds * 1000, 3),
            "linked_request_id": linked_request_id,
        },
    )


class ToolCallLog:
    def __init__(self, submit: Callable[[Pending], None], metrics: GovernanceMetrics) -> None:
        self.submit = submit  # the audit writer's: enqueue only
        self.metrics = metrics

    def record(self, *, seconds: float, **facts: Any) -> None:
        self.submit(lambda: tool_record(seconds=seconds, **facts))
        server, tool = facts["server"], facts["tool"]
        self.metrics.tool_calls.labels(server, tool, facts["outcome"]).inc()
        self.metrics.tool_latency.labels(server, tool).observe(seconds)
