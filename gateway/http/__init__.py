"""The gateway's HTTP surface: Anthropic- and OpenAI-compatible endpoints and /v1/models."""

from __future__ import annotations

from fastapi import APIRouter

from gateway.http.anthropic_api import anthropic_router
from gateway.http.errors import anthropic_error, openai_error
from gateway.http.models_api import models_router
from gateway.http.openai_api import openai_router
from gateway.service import Gateway
from kernel.auth import Authenticate

__all__ = ["anthropic_error", "build_router", "openai_error"]


def build_router(gateway: Gateway, auth: Authenticate) -> APIRouter:
    router = APIRouter()
    router.include_router(anthropic_router(gateway, auth))
    router.include_router(openai_router(gateway, auth))
    router.include_router(models_router(gateway, auth))
    return router
