"""Server-sent events as loregate writes them (the Anthropic- and OpenAI-compatible streams and
the streamed ask): ``event:`` and one ``data:`` line of compact JSON, then a blank line.

Written by hand rather than with sse-starlette: a frame is two lines, and the gateway's
pass-through streams must not pay for a response class per event.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

SSE_HEADERS = {"cache-control": "no-cache", "x-accel-buffering": "no"}


def compact_json(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def sse_frame(event: str | None, data: Any) -> bytes:
    """One event; ``data`` is a JSON value (or text already serialised, as ``str``)."""
    text = data if isinstance(data, str) else compact_json(data)
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {text}\n\n".encode()


class EventStreamResponse(StreamingResponse):
    """A ``text/event-stream`` response that stops when the client hangs up, in plain tasks.

    Starlette's ``StreamingResponse`` on a server that speaks ASGI 2.3 (uvicorn) does the same
    in an anyio task group: a cancel scope and two more frames (anyio's and Starlette's
    wrappers) on the way of every event it relays. Here one task writes the body (its frames:
    the body's own), another waits for ``http.disconnect``, and whichever ends first ends the
    other; a writer cancelled because the client went ends as Starlette's did (the body
    iterator's ``finally`` runs: the gateway closes the model call and records it as
    cancelled), and the request returns once it has."""

    media_type = "text/event-stream"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        loop = asyncio.get_running_loop()
        writer = loop.create_task(self.stream_response(send))
        listener = loop.create_task(_hang_up(receive))
        try:
            await asyncio.wait((writer, listener), return_when=asyncio.FIRST_COMPLETED)
        finally:
            # The body's last write ends the response, which wakes the listener too (the
            # server's "disconnect" after a complete response): whichever ran first, a writer
            # that is done is never cancelled, so a finished stream is never taken for one.
            listener.cancel()
            if not writer.done():  # the client went (or this request is being cancelled)
                writer.cancel()
        try:
            await writer
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise  # this request itself is being cancelled (a server shutting down)


async def _hang_up(receive: Receive) -> None:
    """Return when the client has gone (a server that cannot say: never)."""
    try:
        while (await receive())["type"] != "http.disconnect":
            pass
    except Exception:
        await asyncio.Future()  # the stream runs to its end; cancelled with it
