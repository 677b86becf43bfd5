"""``Handoff``: a stream chosen at its first step, then read straight from what was chosen."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator

import pytest

from gateway.resilience.streams import Handoff, Opened
from gateway.types import StreamEvent
from kernel.errors import ProviderError

# What the tests' chosen streams give, held events and deltas alike: (type, number)
OPENING_AND_THREE_DELTAS = [
    ("message_start", 0),
    ("content_block_start", 0),
    ("content_block_delta", 0),
    ("content_block_delta", 1),
    ("content_block_delta", 2),
]


def event(kind: str, n: int = 0) -> StreamEvent:
    return StreamEvent(type=kind, data={"n": n})


class Chosen:
    """An upstream stream that notes who resumed it and whether it was closed."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.closed = False
        self.resumed_by: list[str] = []

    async def events(self) -> AsyncIterator[StreamEvent]:
        try:
            for i in range(self.n):
                self.resumed_by.append(sys._getframe(1).f_code.co_name)
                yield event("content_block_delta", i)
        finally:
            self.closed = True


async def consumer(stream: AsyncIterator[StreamEvent]) -> list[StreamEvent]:
    got = []
    async for e in stream:
        got.append(e)
    return got


async def test_the_held_events_come_first_then_the_chosen_streams_own_in_order() -> None:
    chosen = Chosen(3)
    calls = 0

    async def choose() -> Opened:
        nonlocal calls
        calls += 1
        return [event("message_start"), event("content_block_start")], chosen.events()

    handoff = Handoff(choose)
    assert calls == 0  # nothing happens until the first event is asked for
    got = await consumer(handoff)
    assert [(e.type, e.data["n"]) for e in got] == OPENING_AND_THREE_DELTAS
    assert calls == 1 and chosen.closed


async def test_no_frame_of_the_layer_is_on_a_later_events_way() -> None:
    """What the layer saves: the chosen stream is resumed by the consumer itself, not by a
    relaying frame of the layer (an async generator relaying would show up as the resumer)."""
    chosen = Chosen(4)

    async def choose() -> Opened:
        return [], chosen.events()

    async def relaying() -> AsyncIterator[StreamEvent]:  # what the layers did before
        async for e in chosen.events():
            yield e

    await consumer(Handoff(choose))
    # the first event is read while choosing; every later one straight by the consumer
    assert chosen.resumed_by == ["_first", "consumer", "consumer", "consumer"]
    chosen.resumed_by.clear()
    await consumer(relaying())
    assert set(chosen.resumed_by) == {"relaying"}


async def test_an_error_while_choosing_raises_from_the_first_step_then_it_is_over() -> None:
    async def choose() -> Opened:
        raise ProviderError("every model failed")

    handoff = Handoff(choose)
    with pytest.raises(ProviderError, match="every model failed"):
        await handoff.__anext__()
    with pytest.raises(StopAsyncIteration):
        await handoff.__anext__()


async def test_closing_closes_the_chosen_stream_and_closing_early_chooses_nothing() -> None:
    chosen = Chosen(5)
    chose = False

    async def choose() -> Opened:
        nonlocal chose
        chose = True
        return [event("message_start")], chosen.events()

    early = Handoff(choose)
    await early.aclose()
    with pytest.raises(StopAsyncIteration):
        await early.__anext__()
    assert not chose

    handoff = Handoff(choose)
    assert (await handoff.__anext__()).type == "message_start"
    assert (await handoff.__anext__()).data["n"] == 0
    await handoff.aclose()
    assert chosen.closed  # its ``finally`` ran, as a relaying generator's close would make it
    with pytest.raises(StopAsyncIteration):
        await handoff.__anext__()


async def test_a_handoff_under_a_handoff_is_taken_over_events_held_by_both_in_order() -> None:
    """Fallback under escalation, retries under fallback: once both have chosen, each later
    event is one ``__anext__`` away from the consumer, not one per layer."""
    chosen = Chosen(3)

    async def choose_inner() -> Opened:
        return [event("message_start"), event("content_block_start")], chosen.events()

    inner = Handoff(choose_inner)

    async def choose_outer() -> Opened:
        first = await inner.__anext__()  # as Fallback and Escalation read a candidate's first
        return [first], inner

    outer = Handoff(choose_outer)
    calls = 0

    def count(frame, event_kind, arg):  # type: ignore[no-untyped-def]
        nonlocal calls
        if event_kind == "call" and frame.f_code is Handoff.__anext__.__code__:
            calls += 1

    got = [await outer.__anext__()]
    sys.setprofile(count)
    try:
        got += await consumer(outer)
    finally:
        sys.setprofile(None)
    assert [(e.type, e.data["n"]) for e in got] == OPENING_AND_THREE_DELTAS
    assert calls == 5  # four events and the end, one call each (two each through both layers)
    await outer.aclose()
    assert chosen.closed
