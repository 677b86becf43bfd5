"""The two places loregate uses the ``anthropic`` SDK beyond its typed methods, in one module.

1. ``post_messages``: the request body is already the Messages API's wire JSON, so it goes out
   through the client's generic ``post`` (the SDK's way to call endpoints it has no typed
   method for): base URL, key, version and platform headers, timeouts and error classes all
   still come from the SDK; only ``messages.create``'s argument checks and body transformation
   are skipped, for a body that needs neither. Its ``options`` type lives in a private module.
2. ``raw_events``: the server-sent events of a streamed response, read as raw JSON so unknown
   or beta events and blocks pass through untouched.

``check_sdk`` verifies both still exist with the shape used here; its test fails loudly, naming
what moved, when an SDK upgrade changes them.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any

import anthropic
import httpx2

if TYPE_CHECKING:
    from anthropic._types import RequestOptions

MESSAGES_PATH = "/v1/messages"


def request_options(headers: Mapping[str, str], timeout: float) -> RequestOptions:
    # Explicit values: the SDK deep-copies the defaults of the options it is not given.
    return {"headers": dict(headers), "max_retries": 0, "timeout": timeout}


async def post_messages(
    client: anthropic.AsyncAnthropic,
    body: dict[str, Any],
    headers: Mapping[str, str],
    timeout_s: float,
    *,
    stream: bool = False,
) -> httpx2.Response:
    """POST ``body`` to the Messages API; the raw response (not read yet when ``stream``)."""
    return await client.post(
        MESSAGES_PATH,
        cast_to=httpx2.Response,
        body=body,
        options=request_options(headers, timeout_s),
        stream=stream,
    )


def raw_events(response: httpx2.Response) -> AsyncIterator[Any]:
    """The raw server-sent events of a streamed response (``.event``, ``.data``)."""
    return anthropic.AsyncStream.raw_events(response)


def check_sdk() -> None:
    """Raise ``RuntimeError`` naming what changed if the SDK no longer offers what is used here."""
    problems = []
    post = getattr(anthropic.AsyncAnthropic, "post", None)
    if post is None:
        problems.append("AsyncAnthropic.post is gone")
    else:
        wanted = {"cast_to", "body", "options", "stream"}
        missing = wanted - set(inspect.signature(post).parameters)
        if missing:
            problems.append(f"AsyncAnthropic.post lost parameters {sorted(missing)}")
    if not callable(getattr(anthropic.AsyncStream, "raw_events", None)):
        problems.append("AsyncStream.raw_events is gone")
    try:
        from anthropic._types import RequestOptions

        keys = set(getattr(RequestOptions, "__annotations__", {}))
        if not {"headers", "max_retries", "timeout"} <= keys:
            problems.append(f"RequestOptions lost keys (has {sorted(keys)})")
    except ImportError:
        problems.append("anthropic._types.RequestOptions moved")
    if problems:
        raise RuntimeError(
            f"anthropic {anthropic.__version__} changed what gateway/providers/anthropic_sdk.py "
            f"relies on: {'; '.join(problems)}. Pin the SDK back "
            "(requirements/constraints.txt) or adapt that module."
        )
