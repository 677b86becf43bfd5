"""The gateway's HTTP surface: Anthropic- and OpenAI-compatible endpoints and /v1/models."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.routing import Route

from gateway.http.anthropic_api import anthropic_router
from gateway.http.errors import anthropic_error, openai_error
from gateway.http.models_api import models_router
from gateway.http.openai_api import openai_router
from gateway.service import Gateway
from kernel.auth import Authenticate
from kernel.errors import ApiError
from kernel.hot_routes import Endpoint, HotRoutesApp

__all__ = ["VENDOR_ERRORS", "anthropic_error", "build_router", "mount_gateway", "openai_error"]

ErrorRenderer = Callable[[Request, ApiError], Response]

# Endpoints that answer errors in a vendor's own shape (path prefix, renderer): the SDKs
# pointed at loregate read them as they read the vendor's.
VENDOR_ERRORS: list[tuple[str, ErrorRenderer]] = [
    ("/v1/messages", anthropic_error),
    ("/v1/chat/completions", openai_error),
    ("/v1/models", anthropic_error),
]


# The model-call endpoints: every call through the gateway takes one of them.
HOT_PATHS = frozenset({"/v1/messages", "/v1/chat/completions"})


def build_router(gateway: Gateway, auth: Authenticate) -> APIRouter:
    return _build(gateway, auth)[0]


def mount_gateway(app: HotRoutesApp, gateway: Gateway, auth: Authenticate) -> None:
    """The gateway's endpoints on ``app``, the model-call ones also dispatched ahead of the
    app's middleware stack (``kernel.hot_routes``)."""
    router, hot = _build(gateway, auth)
    app.include_router(router)
    app.hot_routes.update(hot)


def _build(gateway: Gateway, auth: Authenticate) -> tuple[APIRouter, dict[str, Endpoint]]:
    router = APIRouter()
    hot: dict[str, Endpoint] = {}
    for part in (
        anthropic_router(gateway, auth),
        openai_router(gateway, auth),
        models_router(gateway, auth),
    ):
        for route in part.routes:
            if isinstance(route, Route) and route.path in HOT_PATHS:
                hot[route.path] = route.endpoint
        router.include_router(part)
    return router, hot
