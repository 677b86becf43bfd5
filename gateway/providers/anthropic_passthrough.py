"""Claude on the pass-through path: the client's Messages API body out, the bytes back.

The same contract as the SDK path in ``anthropic.py`` (same errors, same events, same usage),
without building the request through the SDK: see ``passthrough.py``. Events the gateway does
not model are skipped on both paths; an ``error`` event after HTTP 200, a cut connection or a
stream without ``message_stop`` is ``StreamInterrupted``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import orjson

from gateway.providers.passthrough import UpstreamPool, sse_batches, wire_body
from gateway.types import (
    ModelRequest,
    ModelResponse,
    StreamEvent,
    StreamEventType,
    WireBytes,
    trusted,
)
from gateway.usage import usage_from_anthropic
from kernel.errors import ProviderError, StreamInterrupted

MESSAGES_PATH = "/v1/messages"
EMPTY = WireBytes("anthropic", b"")  # an event whose frame went out with a later one
DEFAULT_VERSION = "2023-06-01"
# The events loregate relays, each name to itself as the ``StreamEventType`` it is: a dict
# lookup gives the typed name without a Python call per relayed event (``typing.cast`` is one).
EVENT_TYPES: dict[str, StreamEventType] = {
    "message_start": "message_start",
    "content_block_start": "content_block_start",
    "content_block_delta": "content_block_delta",
    "content_block_stop": "content_block_stop",
    "message_delta": "message_delta",
    "message_stop": "message_stop",
    "ping": "ping",
}


def anthropic_pool(api_key: str, base_url: str | None, timeout_s: float, name: str) -> UpstreamPool:
    # ``anthropic-version`` is the client's when it sends one (request.extra_headers wins).
    return UpstreamPool(
        base_url=base_url or "https://api.anthropic.com",
        headers={"x-api-key": api_key, "anthropic-version": DEFAULT_VERSION},
        timeout_s=timeout_s,
        name=name,
    )


def response_of(data: Any, raw: bytes, request: ModelRequest, name: str) -> ModelResponse:
    if not isinstance(data, dict):
        raise ProviderError(
            f"{name} returned a non-object body", provider=name, model=request.model, retryable=True
        )
    fields: dict[str, Any] = {
        "id": str(data.get("id", "")),
        "provider": name,
        "model_alias": request.model,
        "model_id": str(data.get("model") or request.model),
        "content": list(data.get("content") or []),
        "stop_reason": data.get("stop_reason"),
        "stop_sequence": data.get("stop_sequence"),
        "usage": usage_from_anthropic(data.get("usage")),
    }
    wire = WireBytes("anthropic", raw)
    if _well_formed(fields):  # the usual answer: its fields checked here, not validated again
        given = set(fields)
        fields["confidence"] = None  # (an upstream model states none)
        return trusted(ModelResponse, fields, {"_raw": wire}, given)
    return ModelResponse(**fields).with_raw(wire)  # what validation says of the rest


def _well_formed(fields: dict[str, Any]) -> bool:
    """The fields of an answer as ``ModelResponse`` would accept them unchanged."""
    content: list[Any] = fields["content"]
    return (
        all(type(block) is dict for block in content)
        and (fields["stop_reason"] is None or type(fields["stop_reason"]) is str)
        and (fields["stop_sequence"] is None or type(fields["stop_sequence"]) is str)
    )


async def complete(pool: UpstreamPool, request: ModelRequest) -> ModelResponse:
    raw, data = await pool.post_json(MESSAGES_PATH, wire_body(request, stream=False), request)
    return response_of(data, raw, request, pool.name)


async def stream(pool: UpstreamPool, request: ModelRequest) -> AsyncIterator[StreamEvent]:
    """The upstream's events; of the frames that arrived together, the last event carries
    all their bytes and the others none (``joined``): one write to the client, not one per
    frame (on loopback the write is most of what relaying a frame costs)."""
    name = pool.name
    response = await pool.open(MESSAGES_PATH, wire_body(request, stream=True), request)
    started = finished = False
    try:
        async for batch in sse_batches(response.content):
            events: list[StreamEvent] = []
            for frame in batch:
                if frame.event == "error":
                    for event in joined(events):  # what came before it still goes out
                        yield event
                    raise StreamInterrupted(
                        f"{name} sent an error event after HTTP 200: {frame.data.decode()}",
                        provider=name,
                        model=request.model,
                        details=error_details(frame.data),
                    )
                if frame.event not in EVENT_TYPES or not frame.data:
                    continue
                data = orjson.loads(frame.data)
                if not isinstance(data, dict):
                    raise ValueError(f"a {frame.event} event whose data is not an object")
                finished = finished or frame.event == "message_stop"
                started = True
                # Type and data checked above: built without validating them again.
                wire = WireBytes("anthropic", frame.raw)
                events.append(StreamEvent.relayed(EVENT_TYPES[frame.event], data, wire))
            for event in joined(events):
                yield event
    except (StreamInterrupted, GeneratorExit):
        raise
    except Exception as exc:
        pool.raise_broken(exc, request, started=started)
    finally:
        response.release()
    if not finished:
        raise StreamInterrupted(
            f"{name} stream ended without message_stop", provider=name, model=request.model
        )


def joined(events: list[StreamEvent]) -> list[StreamEvent]:
    """``events`` with every frame's bytes on the last one (the others carry empty bytes)."""
    if len(events) > 1:
        raws = [e.raw.raw for e in events if e.raw is not None]
        for event in events[:-1]:
            event.with_raw(EMPTY)
        events[-1].with_raw(WireBytes("anthropic", b"".join(raws)))
    return events


def error_details(data: bytes) -> dict[str, Any]:
    try:
        body = orjson.loads(data)
    except orjson.JSONDecodeError:
        return {"raw": data.decode(errors="replace")}
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return {"type": error.get("type"), "upstream_message": error.get("message")}
    return {}
