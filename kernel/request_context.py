"""The request context every HTTP layer shares: one request id and when the request arrived.

``RequestIdMiddleware`` (pure ASGI, cheap on the hot path) takes the caller's ``x-request-id``
(or makes one), stamps it and the arrival time on the ASGI scope, sets ``current_request_id``
for code that has no request at hand (log records, background work started by the request),
and returns the id on every response. Everything else reads it with ``request_id``.
"""

from __future__ import annotations

import os
import time
from contextvars import ContextVar, Token
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID_HEADER = b"x-request-id"
_ID = "loregate.request_id"
_STARTED = "loregate.started"
_HEADERS = "loregate.headers"

current_request_id: ContextVar[str | None] = ContextVar("loregate_request_id", default=None)


def request_id(request: Any) -> str | None:
    """The request id of a Starlette ``Request`` (or an ASGI scope), if the middleware ran."""
    scope = request if isinstance(request, dict) else request.scope
    rid = scope.get(_ID)
    return str(rid) if rid else None


def started_at(request: Any) -> float:
    """When the request reached the app (``time.perf_counter`` seconds)."""
    scope = request if isinstance(request, dict) else request.scope
    started = scope.get(_STARTED)
    if not isinstance(started, float):
        started = time.perf_counter()
        scope[_STARTED] = started
    return started


def header_value(request: Any, name: str) -> str | None:
    """The first value of header ``name`` (lower case) of a Starlette ``Request`` or an ASGI
    scope, or None. Starlette's ``Headers.get`` finds a missing header by raising and catching
    a ``KeyError``; the hot path asks for several that are usually absent, so the headers are
    made a dict once per request (kept on the scope) instead of scanned for each."""
    scope = request if isinstance(request, dict) else request.scope
    value = _headers(scope).get(name.encode("latin-1"))
    return None if value is None else str(value.decode("latin-1"))


def _headers(scope: Scope) -> dict[bytes, bytes]:
    """The request's headers by name, the first value of each (as Starlette's ``get``); made
    again if a middleware replaced the scope's headers since."""
    raw = scope.get("headers") or ()
    memo: tuple[object, dict[bytes, bytes]] | None = scope.get(_HEADERS)
    if memo is not None and memo[0] is raw:
        return memo[1]
    found = dict(reversed(raw if isinstance(raw, list | tuple) else list(raw)))
    scope[_HEADERS] = (raw, found)
    return found


def new_id() -> str:
    """32 random hex digits, as random as a UUID4's (without its version bits): five times
    cheaper than ``uuid.uuid4().hex``, and made for every request."""
    return os.urandom(16).hex()


def stamp(scope: Scope) -> tuple[Token[str | None], tuple[bytes, bytes]]:
    """Stamp an HTTP request's id (the caller's ``x-request-id``, else a new one) and arrival
    time on its scope and set ``current_request_id``: the token that resets it and the header
    that returns the id on the response. (``RequestIdMiddleware`` and ``kernel.hot_routes``.)"""
    incoming = _headers(scope).get(REQUEST_ID_HEADER)
    rid = incoming.decode("latin-1")[:128] if incoming else new_id()
    scope[_ID] = rid
    scope[_STARTED] = time.perf_counter()
    return current_request_id.set(rid), (REQUEST_ID_HEADER, rid.encode("latin-1"))


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token, header = stamp(scope)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            current_request_id.reset(token)
