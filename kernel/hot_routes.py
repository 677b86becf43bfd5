"""Hot routes: the few endpoints every model call takes, dispatched ahead of the app's router.

A FastAPI app runs each request through its telemetry, body-limit, exception and exit-stack
middlewares and then matches it against every route of every included router (the console,
the admin API, ingestion, ...). For the gateway's model-call endpoints, plain Starlette
endpoints that take a ``Request`` and return a ``Response``, none of that does anything, and
on a 2-core machine it was about a tenth of the serving thread's time under load
(benchmarks/gateway_overhead.py). ``HotRoutes`` is a pure-ASGI middleware (added inside the
request-id middleware) that sends ``POST`` to those paths straight to their endpoint through
Starlette's own ``request_response``, with the app's exception handlers in the scope exactly as
Starlette's ``ExceptionMiddleware`` puts them there: errors render the same as through the
router, and an unexpected exception still reaches the app's outermost error handler. Every
other request goes on through the whole stack untouched; the routes stay in the router too
(OpenAPI, and any app mounted without this middleware).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import request_response
from starlette.types import ASGIApp, Receive, Scope, Send

Endpoint = Callable[[Request], Awaitable[Response]]


class HotRoutes:
    def __init__(self, app: ASGIApp, routes: Mapping[str, Endpoint]) -> None:
        """``routes``: path -> endpoint, for ``POST``."""
        self.app = app
        self.endpoints = {path: request_response(fn) for path, fn in routes.items()}
        self._handlers: tuple[dict[Any, Any], dict[Any, Any]] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            endpoint = self.endpoints.get(_route_path(scope))
            if endpoint is not None:
                scope["starlette.exception_handlers"] = self._exception_handlers(scope)
                await endpoint(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _exception_handlers(self, scope: Scope) -> tuple[dict[Any, Any], dict[Any, Any]]:
        """The app's handlers split as its ``ExceptionMiddleware`` splits them (``Exception``
        and 500 belong to the outermost ``ServerErrorMiddleware``, which still sees them)."""
        if self._handlers is None:
            handlers: Mapping[Any, Any] = getattr(scope.get("app"), "exception_handlers", {})
            by_class = {k: v for k, v in handlers.items() if isinstance(k, type)}
            by_class.pop(Exception, None)
            by_status = {k: v for k, v in handlers.items() if isinstance(k, int) and k != 500}
            self._handlers = (by_class, by_status)
        return self._handlers


def _route_path(scope: Scope) -> str:
    """The path the router would match (without the ``root_path`` a proxy mounts us under)."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path
