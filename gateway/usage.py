"""Anthropic's ``usage`` object, read and written in one place, and the cumulative stream rule.

Cache creation is split 5m/1h from ``cache_creation`` when the upstream sends it; without the
split, the whole ``cache_creation_input_tokens`` is a 5-minute write (the API's default TTL).

Usage in a stream is cumulative: ``message_start`` carries the input side, every
``message_delta`` the running totals, so the last value of each field is the truth; a sum would
count the input twice and the output's first token twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateway.types import StreamEvent, Usage, trusted


def _int(value: Any) -> int:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0


def usage_from_anthropic(usage: Mapping[str, Any] | None) -> Usage:
    """Anthropic's ``usage`` JSON as a ``Usage`` (absent or null fields count 0)."""
    if not usage:
        return Usage()
    creation = _int(usage.get("cache_creation_input_tokens"))
    split = usage.get("cache_creation")
    if isinstance(split, dict) and (  # JSON's objects (not ``Mapping``: an ABC's check per call)
        "ephemeral_5m_input_tokens" in split or "ephemeral_1h_input_tokens" in split
    ):
        c5 = _int(split.get("ephemeral_5m_input_tokens"))
        c1 = _int(split.get("ephemeral_1h_input_tokens"))
        if not creation:
            creation = c5 + c1
    else:
        c5, c1 = creation, 0
    # Every count is an int from ``_int``: built without validating them again.
    return trusted(
        Usage,
        {
            "input_tokens": _int(usage.get("input_tokens")),
            "output_tokens": _int(usage.get("output_tokens")),
            "cache_creation_input_tokens": creation,
            "cache_creation_5m_input_tokens": c5,
            "cache_creation_1h_input_tokens": c1,
            "cache_read_input_tokens": _int(usage.get("cache_read_input_tokens")),
        },
    )


def usage_to_anthropic(usage: Usage) -> dict[str, Any]:
    """A ``Usage`` as Anthropic's ``usage`` JSON (with the 5m/1h split)."""
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


class CumulativeUsage:
    """The usage of one stream so far: the last non-null value of each field seen."""

    __slots__ = ("_fields",)

    def __init__(self) -> None:
        self._fields: dict[str, Any] = {}

    def update(self, usage: Mapping[str, Any] | None) -> None:
        """Take a raw ``usage`` object's values (``message_start.message.usage`` or
        ``message_delta.usage``)."""
        for key, value in (usage or {}).items():
            if value is not None:
                self._fields[key] = value

    def observe(self, event: StreamEvent) -> None:
        """Take the usage an Anthropic-shaped stream event carries, if any."""
        if event.type == "message_start":
            message = event.data.get("message")
            if isinstance(message, Mapping):
                self.update(message.get("usage"))
        elif event.type == "message_delta":
            self.update(event.data.get("usage"))

    @property
    def usage(self) -> Usage:
        return usage_from_anthropic(self._fields)

    def as_json(self) -> dict[str, Any]:
        """The merged cumulative usage (what a stream's last ``message_delta`` carries)."""
        merged = dict(self._fields)
        merged.update(usage_to_anthropic(self.usage))
        return merged
