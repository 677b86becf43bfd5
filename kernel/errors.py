"""The error tree of loregate's invocation core (and the root other packages extend).

Every error a caller can see carries a stable ``code`` (snake_case, part of the API), an HTTP
``status`` and a ``retryable`` flag. The HTTP layers render them in one JSON shape; the
Anthropic- and OpenAI-compatible endpoints render them in those vendors' shapes.

    ApiError                              code                 status  retryable
    ├── InvalidRequest                    invalid_request      400     no
    │   └── ConfigError                   invalid_config       400     no
    ├── AuthenticationError               unauthenticated      401     no
    ├── PermissionDenied                  forbidden            403     no
    ├── NotFound                          not_found            404     no
    │   └── UnknownModel                  unknown_model        404     no
    ├── BudgetExceeded                    budget_exceeded      402     no
    ├── RateLimited                       rate_limited         429     yes (retry_after)
    └── ProviderError                     provider_error       502     depends
        ├── ProviderStatusError           upstream_status      the upstream's status
        │                                 (429/500/502/503/529 retryable; 400/401/403/404 not)
        ├── ProviderTimeout               upstream_timeout     504     yes
        ├── ProviderConnectionError       upstream_connection  502     yes
        ├── StreamInterrupted             stream_error         502     yes (before the 1st byte)
        ├── CircuitOpen                   circuit_open         503     yes (another provider)
        ├── ProviderBusy                  provider_busy        429     no  (retry_after; the
        │                                 model is loaded, not failing: never opens a circuit)
        └── AllProvidersFailed            all_providers_failed 503     no  (holds each attempt)

Other packages subclass ``ApiError`` for their own failures (for example ingestion errors).
"""

from __future__ import annotations

from typing import Any

RETRYABLE_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504, 529})


class ApiError(Exception):
    """Base of every error loregate shows to a caller."""

    code: str = "internal_error"
    status: int = 500
    retryable: bool = False

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = details or {}

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return body


class InvalidRequest(ApiError):
    code = "invalid_request"
    status = 400


class ConfigError(InvalidRequest):
    code = "invalid_config"


class AuthenticationError(ApiError):
    code = "unauthenticated"
    status = 401


class PermissionDenied(ApiError):
    code = "forbidden"
    status = 403


class NotFound(ApiError):
    code = "not_found"
    status = 404


class UnknownModel(NotFound):
    code = "unknown_model"


class BudgetExceeded(ApiError):
    code = "budget_exceeded"
    status = 402


class RateLimited(ApiError):
    code = "rate_limited"
    status = 429
    retryable = True

    def __init__(self, message: str, *, retry_after: float, details: dict[str, Any] | None = None):
        super().__init__(message, details=details)
        self.retry_after = retry_after


class ProviderError(ApiError):
    """A model provider failed. ``provider`` and ``model`` say which."""

    code = "provider_error"
    status = 502

    def __init__(
        self,
        message: str,
        *,
        provider: str = "",
        model: str = "",
        retryable: bool | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message, details=details)
        self.provider = provider
        self.model = model
        if retryable is not None:
            self.retryable = retryable


class ProviderStatusError(ProviderError):
    code = "upstream_status"

    def __init__(
        self,
        message: str,
        *,
        upstream_status: int,
        retry_after: float | None = None,
        provider: str = "",
        model: str = "",
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(
            message,
            provider=provider,
            model=model,
            retryable=upstream_status in RETRYABLE_STATUSES,
            details=details,
        )
        self.upstream_status = upstream_status
        self.retry_after = retry_after
        self.status = upstream_status if upstream_status < 600 else 502


class ProviderTimeout(ProviderError):
    code = "upstream_timeout"
    status = 504
    retryable = True


class ProviderConnectionError(ProviderError):
    code = "upstream_connection"
    retryable = True


class StreamInterrupted(ProviderError):
    """An error event (or a broken connection) after the stream started."""

    code = "stream_error"
    retryable = True


class CircuitOpen(ProviderError):
    code = "circuit_open"
    status = 503
    retryable = True


class ProviderBusy(ProviderError):
    """An in-process model's queue is full (or its wait ran out): come back in ``retry_after``
    seconds. A busy model is not a failing one: it never counts against its circuit."""

    code = "provider_busy"
    status = 429
    retryable = False

    def __init__(
        self, message: str, *, retry_after: float, provider: str = "", model: str = ""
    ) -> None:
        super().__init__(
            message, provider=provider, model=model, details={"retry_after_s": retry_after}
        )
        self.retry_after = retry_after


class AllProvidersFailed(ProviderError):
    code = "all_providers_failed"
    status = 503
    retryable = False

    def __init__(self, message: str, *, errors: list[ProviderError]) -> None:
        super().__init__(
            message,
            details={
                "attempts": [
                    {"code": e.code, "provider": e.provider, "model": e.model, "message": e.message}
                    for e in errors
                ]
            },
        )
        self.errors = errors
