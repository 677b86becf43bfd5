"""The gateway's HTTP surface: Anthropic- and OpenAI-compatible endpoints and /v1/models."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.responses import Response

from gateway.http.anthropic_api import anthropic_router
from gateway.http.errors import anthropic_error, openai_error
from gateway.http.models_api import models_router
from gateway.http.openai_api import openai_router
from gateway.service import Gateway
from kernel.auth import Authenticate
from kernel.errors import ApiError

__all__ = ["VENDOR_ERRORS", "anthropic_error", "build_router", "openai_error"]

ErrorRenderer = Callable[[Request, ApiError], Response]

# Endpoints that answer errors in a vendor's own shape (path prefix, renderer): the SDKs
# pointed at loregate read them as they read the vendor's.
VENDOR_ERRORS: list[tuple[str, ErrorRenderer]] = [
    ("/v1/messages", anthropic_error),
    ("/v1/chat/completions", openai_error),
    ("/v1/models", anthropic_error),
]


def build_router(gateway: Gateway, auth: Authenticate) -> APIRouter:
    router = APIRouter()
    router.include_router(anthropic_router(gateway, auth))
    router.include_router(openai_router(gateway, auth))
    router.include_router(models_router(gateway, auth))
    return router
