"""What the compatible endpoints share: body parsing and timing headers."""

from __future__ import annotations

import time
from typing import Any

import orjson
from fastapi import Request
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.requests import ClientDisconnect
from starlette.types import Receive, Scope, Send

from gateway.types import AttemptRecord, ModelRequest
from kernel.after_response import Deferred
from kernel.errors import InvalidRequest
from kernel.request_context import header_value, request_id

OVERHEAD_HEADER = "x-loregate-overhead-ms"


def request_id_of(request: Request) -> str | None:
    """The request id the middleware set, else the caller's header (a bare gateway app)."""
    return request_id(request) or header_value(request, "x-request-id") or None


async def json_body(request: Request) -> dict[str, Any]:
    return (await raw_json_body(request))[1]


async def body_bytes(request: Request) -> bytes:
    """The request's body, read from ``receive`` as Starlette's ``Request.stream`` reads it
    (a client that hangs up is ``ClientDisconnect``), without its async generator and
    ``aclosing`` context: one ``receive`` for the usual body that arrives whole. Read it once:
    ``request.body()`` would find nothing left."""
    chunks: list[bytes] = []
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        body: bytes = message.get("body", b"")
        if not message.get("more_body", False):
            if not chunks:
                return body
            chunks.append(body)
            return b"".join(chunks)
        chunks.append(body)


async def raw_json_body(request: Request) -> tuple[bytes, dict[str, Any]]:
    """The body's bytes (kept for the pass-through path) and the JSON object they hold."""
    raw = await body_bytes(request)
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidRequest(f"the request body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise InvalidRequest("the request body must be a JSON object")
    return raw, body


def model_request(fields: dict[str, Any]) -> ModelRequest:
    """Validate into a ``ModelRequest``; the error names each bad field."""
    try:
        return ModelRequest.model_validate(fields)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in exc.errors()
        )
        raise InvalidRequest(f"invalid request: {problems}") from None


def upstream_ms(attempts: list[AttemptRecord]) -> float:
    return sum(a.latency_ms for a in attempts)


def overhead_ms(started: float, upstream: float) -> str:
    """The gateway's own time: everything since arrival that was not spent upstream."""
    total = (time.perf_counter() - started) * 1000.0
    return f"{max(0.0, total - upstream):.3f}"


class DeferringResponse(Response):
    """A JSON answer that runs the work its call deferred (``kernel.after_response``) once it
    is sent, or once sending it failed (a client that hung up still gets audited)."""

    media_type = "application/json"

    def __init__(self, content: bytes | str, headers: dict[str, str], deferred: Deferred) -> None:
        """``headers``: names in lower case (the answer's own, made by loregate). Built here
        rather than by ``Response.__init__``, which lowercases and searches them again on
        every answer; the same headers, in the same order."""
        self.status_code = 200
        self.background = None
        self.body = content if isinstance(content, bytes) else content.encode()
        self.raw_headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
        if "content-length" not in headers:
            self.raw_headers.append((b"content-length", b"%d" % len(self.body)))
        if "content-type" not in headers:
            self.raw_headers.append((b"content-type", b"application/json"))
        self.deferred = deferred

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
            await send({"type": "http.response.body", "body": self.body})
        finally:
            self.deferred.run_now()
