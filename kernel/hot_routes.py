"""Hot routes: the few endpoints every model call takes, dispatched ahead of the app's stack.

A FastAPI app runs each request through its error, telemetry and body-limit middlewares, the
user middlewares (request ids), the exception middleware and the router, which matches it
against every route of every included router (the console, the admin API, ingestion, ...),
and each layer wraps ``send`` again. For the gateway's model-call endpoints, plain Starlette
endpoints that take a ``Request`` and return a ``Response``, none of that does anything a
client sees, and a request's Python calls are what its added latency is made of
(benchmarks/gateway_overhead.py). ``HotRoutesApp`` serves them before entering the app at
all: ``POST`` to a hot path gets its request id and arrival time (``kernel.request_context``
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
from fastapi.telemetry import TelemetryConfig
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from kernel.loop_turns import TURNS
from kernel.request_context import current_request_id, stamp

Endpoint = Callable[[Request], Awaitable[Response]]
Handler = Callable[[Request, Exception], Any]


class HotRoutes:
    """Serves the hot endpoints: request id, endpoint, response, the app's error handlers."""

    def __init__(self, handlers: Mapping[Any, Handler] | None = None) -> None:
        """``handlers``: the app's exception handlers (class or status code -> handler), as
        ``FastAPI.exception_handlers``."""
        self.handlers = {k: v for k, v in (handlers or {}).items() if isinstance(k, type)}

    async def serve(self, endpoint: Endpoint, scope: Scope, receive: Receive, send: Send) -> None:
        token, id_header = stamp(scope)  # arrival: a wait for a turn is the gateway's time
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = [*message.get("headers", []), id_header]
            await send(message)

        request = Request(scope, receive)
        try:
            await TURNS.take()  # many arriving together: the streams in flight go on between them
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


# FastAPI's ``telemetry`` setting with its spans, metrics and logs off (``loregate.app`` passes
# it unless OpenTelemetry is configured).
TELEMETRY_OFF: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}


class HotRoutesApp(FastAPI):
    """A FastAPI app whose ``hot_routes`` (path -> endpoint, for ``POST``) are served by
    ``HotRoutes`` before the app itself is entered (its ``__call__``, its middleware stack and
    its router); add them before the app first serves a request. With FastAPI's telemetry on
    (``telemetry`` not ``TELEMETRY_OFF``) they keep its spans: every request goes through the
    whole app, the hot routes through the router like the others."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.hot_routes: dict[str, Endpoint] = {}
        self._hot: HotRoutes | None = None
        telemetry = kwargs.get("telemetry")
        self._bypass = telemetry is not None and not any(
            telemetry.get(part, True) for part in ("tracing", "metrics", "logs")
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and self._bypass:
            if self.root_path:
                scope["root_path"] = self.root_path
            endpoint = self.hot_routes.get(_route_path(scope))
            if endpoint is not None:
                scope["app"] = self
                if self._hot is None:  # the handlers as they are once serving starts
                    self._hot = HotRoutes(self.exception_handlers)
                await self._hot.serve(endpoint, scope, receive, send)
                return
        await super().__call__(scope, receive, send)


def _route_path(scope: Scope) -> str:
    """The path the router would match (without the ``root_path`` a proxy mounts us under)."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path
