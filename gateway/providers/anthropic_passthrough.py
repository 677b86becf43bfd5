"""Claude on the pass-through path: the client's Messages API body out, the bytes back.

The same contract as the SDK path in ``anthropic.py`` (same errors, same events, same usage),
without building the request through the SDK: see ``passthrough.py``. Events the gateway does
not model are skipped on both paths; an ``error`` event after HTTP 200, a cut connection or a
stream without ``message_stop`` is ``StreamInterrupted``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, cast

import orjson

from gateway.providers.passthrough import UpstreamPool, sse_frames, wire_body
from gateway.types import ModelRequest, ModelResponse, StreamEvent, StreamEventType, WireBytes
from gateway.usage import usage_from_anthropic
from kernel.errors import ProviderError, StreamInterrupted

MESSAGES_PATH = "/v1/messages"
DEFAULT_VERSION = "2023-06-01"
EVENT_TYPES = frozenset(
    {
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
        "ping",
    }
)


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
    return ModelResponse(
        id=str(data.get("id", "")),
        provider=name,
        model_alias=request.model,
        model_id=str(data.get("model") or request.model),
        content=list(data.get("content") or []),
        stop_reason=data.get("stop_reason"),
        stop_sequence=data.get("stop_sequence"),
        usage=usage_from_anthropic(data.get("usage")),
    ).with_raw(WireBytes("anthropic", raw))


async def complete(pool: UpstreamPool, request: ModelRequest) -> ModelResponse:
    raw, data = await pool.post_json(MESSAGES_PATH, wire_body(request, stream=False), request)
    return response_of(data, raw, request, pool.name)


async def stream(pool: UpstreamPool, request: ModelRequest) -> AsyncIterator[StreamEvent]:
    name = pool.name
    response = await pool.open(MESSAGES_PATH, wire_body(request, stream=True), request)
    started = finished = False
    try:
        async for frame in sse_frames(response.content):
            if frame.event == "error":
                raise StreamInterrupted(
                    f"{name} sent an error event after HTTP 200: {frame.data.decode()}",
                    provider=name,
                    model=request.model,
                    details=error_details(frame.data),
                )
            if frame.event not in EVENT_TYPES or not frame.data:
                continue
            data = orjson.loads(frame.data)
            finished = finished or frame.event == "message_stop"
            started = True
            if not isinstance(data, dict):
                raise ValueError(f"a {frame.event} event whose data is not an object")
            # Type and data checked above: built without validating them again (per delta).
            event = StreamEvent.model_construct(type=cast(StreamEventType, frame.event), data=data)
            yield event.with_raw(WireBytes("anthropic", frame.raw))
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


def error_details(data: bytes) -> dict[str, Any]:
    try:
        body = orjson.loads(data)
    except orjson.JSONDecodeError:
        return {"raw": data.decode(errors="replace")}
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return {"type": error.get("type"), "upstream_message": error.get("message")}
    return {}
