"""Compact JSON as UTF-8 bytes: orjson for speed, ``json`` for what orjson refuses.

A client's body is forwarded after a rewrite and a request's tools are sized on every call, so
both are serialised with orjson (a 110 KB coding agent's request in tens of microseconds); a
value it cannot hold (an integer beyond 64 bits) still serialises, as ``json`` writes it with
the same separators and characters."""

from __future__ import annotations

import json
from typing import Any

import orjson


def compact_json_bytes(value: Any) -> bytes:
    try:
        return orjson.dumps(value)
    except (orjson.JSONEncodeError, TypeError):  # e.g. an integer beyond 64 bits
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
