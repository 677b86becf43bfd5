"""Errors in the vendors' own shapes, for the Anthropic- and OpenAI-compatible endpoints.

Anthropic: ``{"type": "error", "error": {"type": "rate_limit_error", "message": ...},
"request_id": ...}``; OpenAI: ``{"error": {"message", "type", "param", "code"}}``. A
``retry-after`` header goes with every error that carries one.
"""

from __future__ import annotations

import json

from fastapi import Request
from fastapi.responses import Response

from kernel.errors import ApiError, ProviderBusy, ProviderStatusError, RateLimited
from kernel.request_context import request_id

ANTHROPIC_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    422: "invalid_request_error",
    429: "rate_limit_error",
    504: "timeout_error",
    529: "overloaded_error",
}

OPENAI_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "insufficient_quota",
    403: "permission_error",
    404: "invalid_request_error",
    413: "invalid_request_error",
    422: "invalid_request_error",
    429: "rate_limit_error",
}


def _request_id(request: Request) -> str:
    return request_id(request) or ""


def error_headers(exc: ApiError, request_id: str = "") -> dict[str, str]:
    headers = {"request-id": request_id} if request_id else {}
    retry_after = None
    if isinstance(exc, RateLimited | ProviderStatusError | ProviderBusy):
        retry_after = exc.retry_after
    if retry_after is not None:
        headers["retry-after"] = str(max(1, round(retry_after)))
    return headers


def anthropic_error_body(exc: ApiError, request_id: str = "") -> dict[str, object]:
    kind = ANTHROPIC_TYPES.get(exc.status, "api_error")
    body: dict[str, object] = {
        "type": "error",
        "error": {"type": kind, "message": exc.message, "code": exc.code},
    }
    if request_id:
        body["request_id"] = request_id
    return body


def anthropic_error(request: Request, exc: ApiError) -> Response:
    rid = _request_id(request)
    return Response(
        json.dumps(anthropic_error_body(exc, rid)),
        status_code=exc.status,
        media_type="application/json",
        headers=error_headers(exc, rid),
    )


def openai_error_body(exc: ApiError) -> dict[str, object]:
    kind = OPENAI_TYPES.get(exc.status, "server_error" if exc.status >= 500 else "api_error")
    return {"error": {"message": exc.message, "type": kind, "param": None, "code": exc.code}}


def openai_error(request: Request, exc: ApiError) -> Response:
    rid = _request_id(request)
    return Response(
        json.dumps(openai_error_body(exc)),
        status_code=exc.status,
        media_type="application/json",
        headers=error_headers(exc, rid),
    )
