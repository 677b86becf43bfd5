"""Hot routes: the few endpoints every model call takes, dispatched ahead of the app's stack.

A FastAPI app runs each request through its error, telemetry and body-limit middlewares, the
user middlewares (request ids), the exception middleware and the router, which matches it
against every route of every included router (the console, the admin API, ingestion, ...),
and each layer wraps ``send`` again. For the gateway's model-call endpoints, plain Starlette
endpoints that take a ``Request`` and return a ``Response``, none of that does anything a
client sees, and a request's Python calls are what its added latency is made of
(benchmarks/gateway_overhead.py). ``HotRoutesApp`` puts ``HotRoutes`` in front of its whole
stack: ``POST`` to a hot path gets its request id and arrival time (``kernel.request_context``
stamps them as the request-id middleware does), its endpoint's response, and on an exception
the app's own handler, found as Starlette finds it (by the exception's class, most specific
first); an exception only the last-resort handler (``Exception``) takes is raised again after
its 500 is sent, as Starlette's ``ServerErrorMiddleware`` does, so the server logs it too.
Every other request goes on through the whole stack untouched; the routes stay in the router
too (OpenAPI, and any app built without this class).
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kernel.request_context import current_request_id, stamp

Endpoint = Callable[[Request], Awaitable[Response]]
Handler = Callable[[Request, Exception], Any]


class HotRoutes:
    def __init__(
        self,
        app: ASGIApp,
        routes: Mapping[str, Endpoint],
        handlers: Mapping[Any, Handler] | None = None,
    ) -> None:
        """``routes``: path -> endpoint, for ``POST``; ``handlers``: the app's exception
        handlers (class or status code -> handler), as ``FastAPI.exception_handlers``."""
        self.app = app
        self.endpoints = dict(routes)
        self.handlers = {k: v for k, v in (handlers or {}).items() if isinstance(k, type)}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            endpoint = self.endpoints.get(_route_path(scope))
            if endpoint is not None:
                await self._serve(endpoint, scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def _serve(self, endpoint: Endpoint, scope: Scope, receive: Receive, send: Send) -> None:
        token, id_header = stamp(scope)
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = [*message.get("headers", []), id_header]
            await send(message)

        request = Request(scope, receive)
        try:
            try:
                response = await endpoint(request)
                await response(scope, receive, send_with_id)
            except Exception as exc:
                handler, last_resort = self._handler(exc)
                if started or handler is None:
                    raise
                answer = handler(request, exc)
                if inspect.isawaitable(answer):
                    answer = await answer
                await answer(scope, receive, send_with_id)
                if last_resort:
                    raise
        finally:
            current_request_id.reset(token)

    def _handler(self, exc: Exception) -> tuple[Handler | None, bool]:
        """The app's handler for ``exc`` (its class's, else the nearest base class's), and
        whether it is the last-resort one."""
        for cls in type(exc).__mro__:
            handler = self.handlers.get(cls)
            if handler is not None:
                return handler, cls is Exception
        return None, False


class HotRoutesApp(FastAPI):
    """A FastAPI app with ``hot_routes`` (path -> endpoint, for ``POST``) served ahead of its
    middleware stack by ``HotRoutes``; add them before the app first serves a request."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.hot_routes: dict[str, Endpoint] = {}

    def build_middleware_stack(self) -> ASGIApp:
        stack = super().build_middleware_stack()
        if not self.hot_routes:
            return stack
        return HotRoutes(stack, self.hot_routes, self.exception_handlers)


def _route_path(scope: Scope) -> str:
    """The path the router would match (without the ``root_path`` a proxy mounts us under)."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path
