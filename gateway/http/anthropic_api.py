"""``POST /v1/messages`` and ``/v1/messages/count_tokens``, Anthropic-compatible.

Everything the client sends that loregate does not interpret (tools, tool results,
``cache_control``, ``thinking``, ...) is passed upstream untouched, and so is the
``anthropic-beta`` header. Streams are relayed event by event in the order the model sent them.
An error before the first content event is an HTTP error in Anthropic's shape; after it, an
``event: error`` closes the stream (never a silent, truncated 200).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import Response

from gateway.http.common import (
    OVERHEAD_HEADER,
    DeferringResponse,
    json_body,
    model_request,
    overhead_ms,
    raw_json_body,
    request_id_of,
    upstream_ms,
)
from gateway.http.errors import anthropic_error_body
from gateway.service import Gateway, GatewayStream
from gateway.types import InvocationResult, ModelRequest, StreamEvent, WireBody
from gateway.usage import usage_to_anthropic
from kernel.after_response import Deferred
from kernel.auth import Authenticate
from kernel.errors import ApiError, ProviderError
from kernel.principal import Principal
from kernel.request_context import header_value, started_at
from kernel.sse import SSE_HEADERS, EventStreamResponse, compact_json, sse_frame

# Fields of the Messages API that ModelRequest models; everything else goes to extra_body.
_MODELLED = frozenset(
    {
        "model",
        "messages",
        "max_tokens",
        "system",
        "temperature",
        "top_p",
        "stop_sequences",
        "tools",
        "tool_choice",
        "metadata",
    }
)
# Forwarded as the client sent them (Claude Code's gateway contract asks for both).
PASSTHROUGH_HEADERS = ("anthropic-beta", "anthropic-version")


def to_model_request(body: dict[str, Any], request: Request) -> tuple[ModelRequest, bool]:
    stream = body.get("stream", False)
    fields = {k: v for k, v in body.items() if k in _MODELLED}
    fields["extra_body"] = {k: v for k, v in body.items() if k not in _MODELLED and k != "stream"}
    extra: dict[str, str] = {}
    for name in PASSTHROUGH_HEADERS:
        value = header_value(request, name)
        if value is not None:
            extra[name] = value
    fields["extra_headers"] = extra
    return model_request(fields), bool(stream)


def message_json(result: InvocationResult) -> dict[str, Any]:
    r = result.response
    return {
        "id": r.id,
        "type": "message",
        "role": "assistant",
        "model": r.model_id,
        "content": r.content,
        "stop_reason": r.stop_reason,
        "stop_sequence": r.stop_sequence,
        "usage": usage_to_anthropic(r.usage),
    }


def result_headers(result: InvocationResult) -> dict[str, str]:
    return {
        "request-id": result.request_id,
        "x-loregate-model": result.response.model_alias,
        "x-loregate-route": result.route,
        "x-loregate-cost-nano-usd": str(result.cost_nano_usd),
        "x-loregate-routing-version": result.routing_version,
    }


async def answer(
    gateway: Gateway,
    request: ModelRequest,
    principal: Principal,
    request_id: str | None,
    started: float,
    content_of: Callable[[InvocationResult], bytes | str],
) -> DeferringResponse:
    """A non-streamed call's answer (both compatible APIs): the body ``content_of`` makes, the
    result's headers and loregate's own time; its metrics and audit record run after it is
    sent (``kernel.after_response``)."""
    with Deferred() as deferred:
        result = await gateway.invoke(request, principal=principal, request_id=request_id)
        content = content_of(result)
        headers = result_headers(result)
        headers[OVERHEAD_HEADER] = overhead_ms(started, upstream_ms(result.attempts))
    return DeferringResponse(content, headers, deferred)


def message_bytes(result: InvocationResult) -> bytes | str:
    """The upstream's own body when it is already a Messages API answer (pass-through)."""
    raw = result.response.raw
    if raw is not None and raw.format == "anthropic":
        return raw.raw
    return compact_json(message_json(result))


def frame(event: StreamEvent) -> bytes:
    """The event's SSE frame: the upstream's own bytes on the pass-through path."""
    raw = event.raw
    if raw is not None and raw.format == "anthropic":
        return raw.raw
    return sse_frame(event.type, {"type": event.type, **event.data})


async def relay(stream: GatewayStream, first: StreamEvent) -> AsyncIterator[bytes]:
    """SSE frames of the stream; a failure after the first event becomes an error event."""
    try:
        if data := frame(first):
            yield data
        async for event in stream:
            if data := frame(event):  # empty: its bytes go out with a later event's
                yield data
    except ApiError as exc:
        yield sse_frame("error", anthropic_error_body(exc, stream.request_id))
    except Exception as exc:  # anything else still ends as a visible error, never a bare EOF
        err = ProviderError(f"stream failed: {type(exc).__name__}")
        yield sse_frame("error", anthropic_error_body(err, stream.request_id))
    finally:
        with anyio.CancelScope(shield=True):  # a client that hung up still gets its ledger row
            await stream.aclose()


def anthropic_router(gateway: Gateway, auth: Authenticate) -> APIRouter:
    """The endpoints are plain Starlette routes (no dependency injection on the hot path); they
    authenticate by calling ``auth`` themselves. docs/gateway.md documents them."""
    router = APIRouter(tags=["gateway (Anthropic-compatible)"])

    async def create_message(request: Request) -> Response:
        started = started_at(request)
        principal = await auth(request)
        raw, body = await raw_json_body(request)
        model_req, stream = to_model_request(body, request)
        # The client's bytes ride along: a provider that speaks this format forwards them.
        model_req.with_wire(WireBody("anthropic", raw, body))
        rid = request_id_of(request)
        if not stream:
            return await answer(gateway, model_req, principal, rid, started, message_bytes)
        events = gateway.stream(model_req, principal=principal, request_id=rid)
        first = await events.__anext__()  # errors before the first content byte: HTTP status
        headers = {
            **SSE_HEADERS,
            "request-id": events.request_id,
            "x-loregate-routing-version": gateway.routing_version,
            OVERHEAD_HEADER: overhead_ms(started, events.trace.upstream_ms()),
        }
        return EventStreamResponse(relay(events, first), headers=headers)

    async def count_tokens(request: Request) -> Response:
        await auth(request)
        body = await json_body(request)
        body.setdefault("max_tokens", 1)
        model_req, _ = to_model_request(body, request)
        tokens = await gateway.count_tokens(model_req)
        return Response(compact_json({"input_tokens": tokens}), media_type="application/json")

    router.add_route("/v1/messages", create_message, methods=["POST"])
    router.add_route("/v1/messages/count_tokens", count_tokens, methods=["POST"])
    return router
