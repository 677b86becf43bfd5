"""The commit point of a stream: the first content event (or the end of the message).

Until it arrives nothing has reached the caller, so the stream may still be retried or sent to
another model; the events before it (``message_start``, ``content_block_start``, ``ping``) are
held back and replayed. After it, an error is final: it reaches the caller as a stream error.

``Handoff`` is how a layer that only *chooses* a stream (the retries up to the commit point,
the fallback to the next model, the next tier) gives it to its caller once chosen.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

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


Opened = tuple[list[StreamEvent], AsyncIterator[StreamEvent]]
"""What choosing a stream gives: the events read while choosing, and the rest of the stream."""


class Handoff:
    """A stream chosen by ``choose`` at the first ``__anext__``, then read straight from it.

    A layer written as an async generator that relays what it chose (``async for event in it:
    yield event``) is resumed on every event of the stream, down and up again, for nothing
    once the choice is made; at a hundred concurrent streams each such layer is a share of the
    gateway's CPU per relayed delta. Here the first ``__anext__`` runs the choice (an error
    raises from it, as from the generator's first step), hands out the events read while
    choosing, then returns the chosen stream's own ``__anext__``: no frame of this layer is on
    a later event's way. ``aclose`` closes the chosen stream (as the generator's ``finally``
    did); after an error or the end, ``__anext__`` raises ``StopAsyncIteration``.
    """

    __slots__ = ("_choose", "_held", "_it")

    def __init__(self, choose: Callable[[], Awaitable[Opened]]) -> None:
        self._choose: Callable[[], Awaitable[Opened]] | None = choose
        self._held: list[StreamEvent] = []  # reversed: the next one is last
        self._it: AsyncIterator[StreamEvent] | None = None

    def __aiter__(self) -> Handoff:
        return self

    def __anext__(self) -> Awaitable[StreamEvent]:
        if self._held:
            return _ready(self._held.pop())
        if self._it is not None:
            return self._it.__anext__()
        return self._first()

    async def _first(self) -> StreamEvent:
        choose, self._choose = self._choose, None
        if choose is None:  # chosen already and failed, or closed
            raise StopAsyncIteration
        held, it = await choose()
        while isinstance(it, Handoff) and it._it is not None:
            # A layer below chose too (fallback under escalation, retries under fallback):
            # take what it holds and its chosen stream, so each later event is one call away.
            held += reversed(it._held)
            it._held = []
            it = it._it
        self._it = it
        if not held:
            return await it.__anext__()
        held.reverse()
        self._held = held
        return held.pop()

    async def aclose(self) -> None:
        self._choose = None
        self._held = []
        it, self._it = self._it, None
        if it is not None:
            await close_quietly(it)


async def _ready(event: StreamEvent) -> StreamEvent:
    return event
