"""Server-sent events as loregate writes them (the Anthropic- and OpenAI-compatible streams and
the streamed ask): ``event:`` and one ``data:`` line of compact JSON, then a blank line.

Written by hand rather than with sse-starlette: a frame is two lines, and the gateway's
pass-through streams must not pay for a response class per event.
"""

from __future__ import annotations

import json
from typing import Any

SSE_HEADERS = {"cache-control": "no-cache", "x-accel-buffering": "no"}


def compact_json(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def sse_frame(event: str | None, data: Any) -> bytes:
    """One event; ``data`` is a JSON value (or text already serialised, as ``str``)."""
    text = data if isinstance(data, str) else compact_json(data)
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {text}\n\n".encode()
