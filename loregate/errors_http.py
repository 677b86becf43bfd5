"""One JSON shape for every error of loregate's own endpoints.

    {"error": {"code": "<stable snake_case code>", "message": "...", "details": {...}},
     "request_id": "..."}

The Anthropic- and OpenAI-compatible endpoints render errors in those vendors' shapes instead
(they register a renderer for their paths).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from kernel.errors import ApiError, ProviderBusy, RateLimited
from kernel.request_context import request_id

log = logging.getLogger("loregate.http")

ErrorRenderer = Callable[[Request, ApiError], Response]

_STATUS_CODES = {
    400: "invalid_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
}


def request_id_of(request: Request) -> str:
    return request_id(request) or ""


def error_response(
    request: Request, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        {"error": body, "request_id": request_id_of(request)}, status_code=status, headers=headers
    )


def backend_down(exc: BaseException) -> str | None:
    """What a request failed on when a shared server is unreachable, else ``None``: Redis
    (budgets, rate limits: nothing is admitted without them) or the database."""
    import redis.exceptions
    import sqlalchemy.exc

    if isinstance(exc, redis.exceptions.ConnectionError | redis.exceptions.TimeoutError):
        return f"Redis is unreachable; budgets and rate limits fail closed: {exc}"
    if isinstance(exc, sqlalchemy.exc.OperationalError | sqlalchemy.exc.InterfaceError):
        return f"the database is unreachable: {type(exc.orig).__name__}"
    return None


def install_error_handlers(app: FastAPI, renderers: list[tuple[str, ErrorRenderer]]) -> None:
    """``renderers``: (path prefix, renderer) for endpoints with a vendor error shape."""

    def _vendor(request: Request) -> ErrorRenderer | None:
        for prefix, renderer in renderers:
            if request.url.path.startswith(prefix):
                return renderer
        return None

    async def on_api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        renderer = _vendor(request)
        if renderer is not None:
            return renderer(request, exc)
        headers = None
        if isinstance(exc, RateLimited | ProviderBusy):
            headers = {"retry-after": str(max(1, round(exc.retry_after)))}
        return error_response(request, exc.status, exc.to_dict(), headers)

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        problems = [
            {"field": ".".join(str(p) for p in e["loc"]), "problem": e["msg"]} for e in exc.errors()
        ]
        summary = "; ".join(f"{p['field']}: {p['problem']}" for p in problems)
        err = ApiError(f"invalid request: {summary}", details={"problems": problems})
        err.code, err.status = "validation_error", 422
        renderer = _vendor(request)
        if renderer is not None:
            return renderer(request, err)
        return error_response(request, 422, err.to_dict())

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        code = _STATUS_CODES.get(exc.status_code, "http_error")
        return error_response(
            request,
            exc.status_code,
            {"code": code, "message": str(exc.detail)},
            dict(exc.headers) if exc.headers else None,
        )

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        down = backend_down(exc)
        if down is not None:  # fail closed, and say so: a 503 the client may retry
            log.warning("%s %s: %s", request.method, request.url.path, down)
            return error_response(
                request,
                503,
                {"code": "backend_unavailable", "message": down},
                {"retry-after": "2"},
            )
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(
            request,
            500,
            {"code": "internal_error", "message": "internal error; see the server log"},
        )

    app.add_exception_handler(ApiError, on_api_error)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_unexpected)
