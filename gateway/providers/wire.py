"""What the HTTP providers share: retry-after, header hygiene, error mapping."""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Mapping
from typing import Any

from kernel.errors import (
    ApiError,
    InvalidRequest,
    ProviderConnectionError,
    ProviderError,
    ProviderStatusError,
    ProviderTimeout,
    StreamInterrupted,
)

# Headers a caller may not forward upstream (the provider sets its own).
_HOP_HEADERS = frozenset(
    {
        "host",
        "content-length",
        "content-type",
        "connection",
        "transfer-encoding",
        "accept-encoding",
        "x-api-key",
        "authorization",
        "keep-alive",
        "te",
        "upgrade",
    }
)


def forwardable_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """``extra_headers`` minus hop-by-hop and credential headers (``anthropic-beta`` stays)."""
    return {k: v for k, v in headers.items() if k.lower() not in _HOP_HEADERS}


def parse_retry_after(headers: Mapping[str, str] | None, now: float | None = None) -> float | None:
    """Seconds to wait from ``retry-after-ms``, else ``retry-after`` (seconds or an HTTP date)."""
    if headers is None:
        return None
    raw_ms = headers.get("retry-after-ms")
    if raw_ms:
        try:
            return max(0.0, float(raw_ms) / 1000.0)
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def status_error(
    *,
    provider: str,
    model: str,
    status: int,
    message: str,
    headers: Mapping[str, str] | None,
    body: object,
) -> ProviderStatusError:
    # Anthropic's body is {"type": "error", "error": {...}}; the openai SDK hands over the inner
    # {"message": ..., "type": ..., "code": ...} object itself.
    error = body.get("error", body) if isinstance(body, dict) else None
    details: dict[str, Any] = {}
    if isinstance(error, dict):
        details["type"] = error.get("type")
        message = str(error.get("message") or message)
        if error.get("code"):
            details["upstream_code"] = error.get("code")
    if headers is not None:
        rid = headers.get("request-id") or headers.get("x-request-id")
        if rid:
            details["request_id"] = rid
    return ProviderStatusError(
        f"{provider} returned HTTP {status}: {message}",
        upstream_status=status,
        retry_after=parse_retry_after(headers),
        provider=provider,
        model=model,
        details=details,
    )


def transport_error(
    exc: BaseException,
    *,
    provider: str,
    model: str,
    timeouts: tuple[type[BaseException], ...],
    connections: tuple[type[BaseException], ...],
) -> ApiError | None:
    """The loregate error for an SDK's transport failure (``timeouts`` and ``connections`` are
    that SDK's exception classes, its HTTP client's included), ``None`` when ``exc`` is none.

    A body that is not JSON is a retryable upstream fault; a ``ValueError``/``TypeError`` the SDK
    raised before sending is the request's own fault (400, not retried)."""
    if isinstance(exc, timeouts):
        return ProviderTimeout(f"{provider} timed out", provider=provider, model=model)
    if isinstance(exc, connections):
        cause = exc.__cause__ or exc
        return ProviderConnectionError(
            f"{provider} connection failed: {type(cause).__name__} {cause}".rstrip(),
            provider=provider,
            model=model,
        )
    if isinstance(exc, json.JSONDecodeError):
        return ProviderError(
            f"{provider} returned invalid JSON: {exc}",
            provider=provider,
            model=model,
            retryable=True,
        )
    if isinstance(exc, ValueError | TypeError):
        return InvalidRequest(f"{provider} rejected the request: {exc}")
    return None


def broken_stream(exc: BaseException, *, provider: str, model: str) -> StreamInterrupted:
    """A stream that failed after it began (never retried: the caller already has part of it)."""
    return StreamInterrupted(
        f"{provider} stream broke after it began: {type(exc).__name__}: {exc}",
        provider=provider,
        model=model,
    )
