"""The commit point of a stream: the first content event (or the end of the message).

Until it arrives nothing has reached the caller, so the stream may still be retried or sent to
another model; the events before it (``message_start``, ``content_block_start``, ``ping``) are
held back and replayed. After it, an error is final: it reaches the caller as a stream error.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from gateway.types import StreamEvent
from kernel.errors import StreamInterrupted

COMMIT_EVENTS = frozenset({"content_block_delta", "message_delta", "message_stop"})


async def close_quietly(it: AsyncIterator[StreamEvent]) -> None:
    aclose = getattr(it, "aclose", None)
    if aclose is not None:
        # Closing a broken stream must not hide the error that broke it.
        with contextlib.suppress(Exception):
            await aclose()


async def open_stream(
    stream: AsyncIterator[StreamEvent], *, provider: str = "", model: str = ""
) -> tuple[list[StreamEvent], AsyncIterator[StreamEvent]]:
    """Read up to the commit point; return the events read and the rest of the stream."""
    it = stream.__aiter__()
    held: list[StreamEvent] = []
    try:
        while True:
            try:
                event = await it.__anext__()
            except StopAsyncIteration:
                raise StreamInterrupted(
                    "the stream ended before any content", provider=provider, model=model
                ) from None
            held.append(event)
            if event.type in COMMIT_EVENTS:
                return held, it
    except BaseException:
        await close_quietly(it)
        raise
