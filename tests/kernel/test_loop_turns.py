"""``LoopTurns``: starts that arrive together take turns with the loop's other work; one start
alone never waits; a new loop starts afresh."""

from __future__ import annotations

import asyncio
import itertools
import time

from kernel.loop_turns import LoopTurns


def spin(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


async def burst(turns: LoopTurns | None) -> list[str]:
    """Five 3 ms starts ready together, beside a task that needs the loop every iteration
    (as a stream's relay does); the order in which they ran."""
    order: list[str] = []

    async def start(i: int) -> None:
        if turns is not None:
            await turns.take()
        spin(0.003)
        order.append(f"start{i}")

    async def relay() -> None:
        for _ in range(12):
            await asyncio.sleep(0)
            order.append("relay")

    await asyncio.gather(relay(), *(start(i) for i in range(5)))
    return order


def test_starts_arriving_together_let_the_loop_run_between_them() -> None:
    without = asyncio.run(burst(None))
    with_turns = asyncio.run(burst(LoopTurns(slice_s=0.001)))
    starts = [i for i, what in enumerate(without) if what != "relay"]
    assert starts == list(range(5))  # all five before the relay ran once
    positions = [i for i, what in enumerate(with_turns) if what != "relay"]
    assert len(positions) == 5
    assert all(b - a > 1 for a, b in itertools.pairwise(positions))
    assert [w for w in with_turns if w != "relay"] == [f"start{i}" for i in range(5)]  # in order


def test_a_start_alone_goes_on_at_once() -> None:
    async def main() -> bool:
        turns = LoopTurns(slice_s=0.001)
        other_ran = False

        def other() -> None:
            nonlocal other_ran
            other_ran = True

        asyncio.get_running_loop().call_soon(other)
        await turns.take()  # no suspension: the callback above has not run yet
        return other_ran

    assert asyncio.run(main()) is False


def test_a_new_loop_starts_afresh() -> None:
    turns = LoopTurns(slice_s=0.001)

    async def take_then_stop() -> None:
        await turns.take()
        spin(0.002)  # this loop's slice is spent, and it closes before its next iteration

    asyncio.run(take_then_stop())

    async def later() -> float:
        t0 = time.perf_counter()
        await asyncio.wait_for(turns.take(), 1)
        return time.perf_counter() - t0

    assert asyncio.run(later()) < 0.5
