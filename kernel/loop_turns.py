"""``LoopTurns``: new requests take turns on the event loop, so the streams in flight keep flowing.

An asyncio loop runs every callback that is ready at the start of an iteration before it looks
at its sockets again. A hundred requests that arrive together are a hundred ready tasks, and
each runs its whole set-up (authentication, admission, the route's wrappers, the upstream
request) before the next: at about 2 ms each on a slow core, the deltas of the streams already
under way waited for all of them, well past the 10 ms over the upstream's pace that counts as
a stall (benchmarks/gateway_overhead.py, 100 concurrent streams).

``take`` bounds that: the first request to start in an iteration goes on at once; one that
starts when the iteration has already spent ``slice_s`` on such starts yields, and runs in a
later iteration, after the loop has read its sockets and relayed what arrived. One request
alone, or a few, never waits; each waiting request goes in its turn (yields are served in
order), so none is starved.
"""

from __future__ import annotations

import asyncio
import time


class LoopTurns:
    def __init__(self, slice_s: float = 0.001) -> None:
        self.slice_s = slice_s
        self._loop: asyncio.AbstractEventLoop | None = None
        self._started: float | None = None  # when this iteration's first start took its turn

    async def take(self) -> None:
        """Return when this iteration has room for one more start (at once when it has)."""
        loop = asyncio.get_running_loop()
        while True:
            now = time.perf_counter()
            if self._started is None or self._loop is not loop:
                self._loop, self._started = loop, now
                loop.call_soon(self._next_iteration)  # runs before the tasks yielding below
                return
            if now - self._started < self.slice_s:
                return
            await asyncio.sleep(0)

    def _next_iteration(self) -> None:
        self._started = None


TURNS = LoopTurns()
"""The serving process's turns (``kernel.hot_routes`` takes one for every model call)."""
