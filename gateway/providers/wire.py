"""What the HTTP providers share: usage parsing, retry-after, header hygiene, error mapping."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping
from typing import Any

from gateway.types import Usage
from kernel.errors import ProviderStatusError

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


def _int(value: Any) -> int:
    return int(value) if isinstance(value, int | float) else 0


def usage_from_anthropic(usage: Mapping[str, Any] | None) -> Usage:
    """Anthropic's ``usage`` object as a Usage.

    Cache creation is split 5m/1h from ``cache_creation`` when present; without the split the
    whole ``cache_creation_input_tokens`` counts as 5m (the default TTL).
    """
    if not usage:
        return Usage()
    creation = _int(usage.get("cache_creation_input_tokens"))
    split = usage.get("cache_creation")
    if isinstance(split, Mapping) and (
        "ephemeral_5m_input_tokens" in split or "ephemeral_1h_input_tokens" in split
    ):
        c5 = _int(split.get("ephemeral_5m_input_tokens"))
        c1 = _int(split.get("ephemeral_1h_input_tokens"))
        if not creation:
            creation = c5 + c1
    else:
        c5, c1 = creation, 0
    return Usage(
        input_tokens=_int(usage.get("input_tokens")),
        output_tokens=_int(usage.get("output_tokens")),
        cache_creation_input_tokens=creation,
        cache_creation_5m_input_tokens=c5,
        cache_creation_1h_input_tokens=c1,
        cache_read_input_tokens=_int(usage.get("cache_read_input_tokens")),
    )


def usage_to_anthropic(usage: Usage) -> dict[str, Any]:
    """A Usage as Anthropic's ``usage`` JSON (with the 5m/1h split)."""
    return {
        "input_tokens": usage.input_tokens,
        "cache_creation_input_tokens": usage.cache_creation_input_tokens,
        "cache_read_input_tokens": usage.cache_read_input_tokens,
        "cache_creation": {
            "ephemeral_5m_input_tokens": usage.cache_creation_5m_input_tokens,
            "ephemeral_1h_input_tokens": usage.cache_creation_1h_input_tokens,
        },
        "output_tokens": usage.output_tokens,
    }


class StreamUsage:
    """Cumulative stream usage: message_start's values, overridden by each later message_delta.

    Anthropic's stream usage is cumulative, so the last value of each field is the truth; a sum
    would count the input twice and the output's first token twice.
    """

    def __init__(self) -> None:
        self._fields: dict[str, Any] = {}

    def update(self, usage: Mapping[str, Any] | None) -> None:
        for key, value in (usage or {}).items():
            if value is not None:
                self._fields[key] = value

    @property
    def usage(self) -> Usage:
        return usage_from_anthropic(self._fields)

    def as_json(self) -> dict[str, Any]:
        """The merged cumulative usage (what the provider puts on the last message_delta)."""
        merged = dict(self._fields)
        merged.update(usage_to_anthropic(self.usage))
        return merged


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
