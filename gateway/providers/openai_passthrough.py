"""OpenAI chat completions on the pass-through path: the client's own body out, bytes back.

For a client of the OpenAI-compatible endpoint whose route reaches an OpenAI (or
OpenAI-compatible) model: the body goes out with only the model id (and the max-tokens field
it used, when a fallback caps it) rewritten, and ``stream_options.include_usage`` set on a
stream so the ledger gets its usage; the answer's bytes go back to the client as they came
(``raw``), except the usage-only chunk when the client did not ask for it. The canonical
response and events (ledger, audit, budgets) are read from the same bytes (``ChunkEvents``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import orjson

from gateway.providers.openai_chunks import ChunkEvents
from gateway.providers.openai_translate import FINISH_TO_STOP, tool_input, usage_from_openai
from gateway.providers.passthrough import UpstreamPool, sse_frames, wire_body
from gateway.types import ModelRequest, ModelResponse, StreamEvent, WireBytes
from kernel.errors import ProviderError, StreamInterrupted

COMPLETIONS_PATH = "/chat/completions"
NOTHING = WireBytes("openai", b"")  # an event whose bytes an earlier event already carried


def openai_pool(api_key: str, base_url: str | None, timeout_s: float, name: str) -> UpstreamPool:
    return UpstreamPool(
        base_url=base_url or "https://api.openai.com/v1",
        headers={"authorization": f"Bearer {api_key}"},
        timeout_s=timeout_s,
        name=name,
    )


def completion_response(data: Any, request: ModelRequest, name: str) -> ModelResponse:
    """A chat completion (its JSON object) as the canonical response."""
    choices = data.get("choices") if isinstance(data, dict) else None
    if not choices:
        raise ProviderError(
            f"{name} returned no choices", provider=name, model=request.model, retryable=True
        )
    choice = choices[0]
    message = choice.get("message") or {}
    content: list[dict[str, Any]] = []
    if message.get("content"):
        content.append({"type": "text", "text": message["content"]})
    for call in message.get("tool_calls") or []:
        function = call.get("function")
        if function is None:
            continue
        content.append(
            {
                "type": "tool_use",
                "id": call.get("id", ""),
                "name": function.get("name", ""),
                "input": tool_input(function.get("arguments")),
            }
        )
    finish = choice.get("finish_reason")
    return ModelResponse(
        id=str(data.get("id", "")),
        provider=name,
        model_alias=request.model,
        model_id=str(data.get("model") or request.model),
        content=content,
        stop_reason=FINISH_TO_STOP.get(str(finish), finish),
        usage=usage_from_openai(data.get("usage")),
    )


async def complete(pool: UpstreamPool, request: ModelRequest) -> ModelResponse:
    raw, data = await pool.post_json(COMPLETIONS_PATH, wire_body(request, stream=False), request)
    return completion_response(data, request, pool.name).with_raw(WireBytes("openai", raw))


def _wants_usage(body: dict[str, Any]) -> bool:
    options = body.get("stream_options")
    return isinstance(options, dict) and bool(options.get("include_usage"))


async def stream(pool: UpstreamPool, request: ModelRequest) -> AsyncIterator[StreamEvent]:
    wire = request.wire
    assert wire is not None
    client_usage = _wants_usage(wire.body)
    events = ChunkEvents(request.model)
    name = pool.name
    body = wire_body(request, stream=True, include_usage=True)
    response = await pool.open(COMPLETIONS_PATH, body, request)
    pending = b""  # bytes of chunks that made no event yet (they go out with the next one)
    try:
        async for frame in sse_frames(response.content):
            if frame.data == b"[DONE]":
                break
            chunk = orjson.loads(frame.data)
            if isinstance(chunk, dict) and chunk.get("error") is not None:
                raise StreamInterrupted(
                    f"{name} sent an error after HTTP 200: {chunk['error']}",
                    provider=name,
                    model=request.model,
                )
            usage_only = not chunk.get("choices") and chunk.get("usage") is not None
            if client_usage or not usage_only:
                pending += frame.raw
            for event in events.feed(chunk):
                yield event.with_raw(WireBytes("openai", pending) if pending else NOTHING)
                pending = b""
    except (StreamInterrupted, GeneratorExit):
        raise
    except Exception as exc:
        pool.raise_broken(exc, request, started=events.started)
    finally:
        response.release()
    if events.finish is None:
        raise StreamInterrupted(
            f"{name} stream ended without a finish reason", provider=name, model=request.model
        )
    for event in events.finish_events():
        yield event.with_raw(WireBytes("openai", pending) if pending else NOTHING)
        pending = b""
