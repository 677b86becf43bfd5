"""Canonical JSON and content hashes: one form for everything loregate hashes or compares
(the audit chain, the routing version, prompt versions, cache and review keys, document
hashes), so two layers never disagree on the bytes of the same value.

Canonical JSON is ``json.dumps`` with sorted keys, no spaces and unescaped Unicode. Changing
it changes every stored hash: the audit chain would no longer verify and every document would
look edited (tests/kernel/test_digest.py pins known values).

Two stored hashes were defined with other ``json.dumps`` settings before this module existed,
and keep them so the values already stored still match: the routing version escapes
non-ASCII text (``ascii_only=True``) and document hashes keep json's default ``", "`` and
``": "`` separators (``compact=False``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any


def canonical_json(
    value: Any,
    *,
    default: Callable[[Any], Any] | None = None,
    ascii_only: bool = False,
    compact: bool = True,
) -> str:
    """``value`` as canonical JSON text (``default`` converts what JSON cannot hold)."""
    return json.dumps(
        value,
        sort_keys=True,
        separators=(",", ":") if compact else (", ", ": "),
        ensure_ascii=ascii_only,
        default=default,
    )


def sha256_hex(data: str | bytes) -> str:
    """The sha256 of ``data`` (text as UTF-8) in hex."""
    return hashlib.sha256(data.encode("utf-8") if isinstance(data, str) else data).hexdigest()


def digest(value: Any, *, default: Callable[[Any], Any] | None = None) -> str:
    """The sha256 of ``value``'s canonical JSON."""
    return sha256_hex(canonical_json(value, default=default))


def content_version(data: str | bytes) -> str:
    """A content version: the first 12 hex digits of the sha256 (prompt templates, routing
    configuration)."""
    return sha256_hex(data)[:12]
