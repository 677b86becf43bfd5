"""``POST /v1/chat/completions``, OpenAI-compatible (JSON and streaming chunks).

The request is translated to the canonical (Anthropic-shaped) one, so the same routes,
fallbacks and ledger apply; the answer is translated back. A failure before the first content
event is an HTTP error in OpenAI's shape; after it, a final ``data: {"error": ...}`` chunk
(which the OpenAI SDK raises as an APIError) ends the stream.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import Response

from gateway.http.anthropic_api import answer
from gateway.http.common import (
    OVERHEAD_HEADER,
    overhead_ms,
    raw_json_body,
    request_id_of,
)
from gateway.http.errors import openai_error_body
from gateway.http.openai_translate import ChunkTranslator, chat_request, completion_json
from gateway.service import Gateway, GatewayStream
from gateway.types import InvocationResult, StreamEvent, WireBody
from gateway.usage import CumulativeUsage
from kernel.auth import Authenticate
from kernel.errors import ApiError, ProviderError
from kernel.request_context import started_at
from kernel.sse import SSE_HEADERS, EventStreamResponse, compact_json, sse_frame


async def relay_chunks(
    stream: GatewayStream, first: StreamEvent, include_usage: bool
) -> AsyncIterator[bytes]:
    translator = ChunkTranslator(stream.request_id, include_usage)
    usage = CumulativeUsage()
    try:
        event: StreamEvent | None = first
        events = stream.__aiter__()
        while event is not None:
            raw = event.raw
            if raw is not None and raw.format == "openai":  # the upstream's own chunks
                if raw.raw:
                    yield raw.raw
            else:
                usage.observe(event)
                for chunk in translator.chunks(event, usage.usage):
                    yield sse_frame(None, chunk)
            try:
                event = await events.__anext__()
            except StopAsyncIteration:
                event = None
        yield b"data: [DONE]\n\n"
    except ApiError as exc:
        yield sse_frame(None, openai_error_body(exc))
    except Exception as exc:
        yield sse_frame(
            None, openai_error_body(ProviderError(f"stream failed: {type(exc).__name__}"))
        )
    finally:
        with anyio.CancelScope(shield=True):
            await stream.aclose()


def completion_bytes(result: InvocationResult) -> bytes | str:
    """The upstream's own body when it is already a chat completion (pass-through)."""
    raw = result.response.raw
    if raw is not None and raw.format == "openai":
        return raw.raw
    return compact_json(completion_json(result.response, result.request_id))


def openai_router(gateway: Gateway, auth: Authenticate) -> APIRouter:
    router = APIRouter(tags=["gateway (OpenAI-compatible)"])

    async def chat_completions(request: Request) -> Response:  # a plain Starlette route
        started = started_at(request)
        principal = await auth(request)
        raw, body = await raw_json_body(request)
        model_req, stream, include_usage = chat_request(body)
        model_req.with_wire(WireBody("openai", raw, body))  # for an OpenAI-format upstream
        rid = request_id_of(request)
        if not stream:
            return await answer(gateway, model_req, principal, rid, started, completion_bytes)
        events = gateway.stream(model_req, principal=principal, request_id=rid)
        first = await events.__anext__()
        headers = {
            **SSE_HEADERS,
            "request-id": events.request_id,
            "x-loregate-routing-version": gateway.routing_version,
            OVERHEAD_HEADER: overhead_ms(started, events.trace.upstream_ms()),
        }
        return EventStreamResponse(
            relay_chunks(events, first, include_usage),
            headers=headers,
        )

    router.add_route("/v1/chat/completions", chat_completions, methods=["POST"])
    return router
