"""What a replay of an audited call sends: the recorded (redacted) request, re-addressed to
the route or model the operator chose. The CLI (``loregate audit replay``) and the console
both replay through the gateway with it."""

from __future__ import annotations

from typing import Any

from gateway.types import ModelRequest
from kernel.errors import InvalidRequest


def recorded_request(record: dict[str, Any], route: str) -> ModelRequest:
    """The request of an audit record, sent to ``route``; ``InvalidRequest`` when the record
    holds none (a call refused before it reached a model)."""
    req = record.get("request")
    if not req or not req.get("messages"):
        raise InvalidRequest(f"audit record {record.get('request_id')} holds no request to replay")
    fields = {k: v for k, v in req.items() if k != "model" and v is not None}
    return ModelRequest(model=route, **fields)


def response_text(content: Any) -> str:
    """The text of a recorded response's content blocks."""
    if not content:
        return ""
    texts = [b.get("text", "") for b in content if isinstance(b, dict)]
    return "".join(texts)
