"""The one generation slot of an in-process model, with a bounded queue in front of it.

An embedded model generates one answer at a time. Requests beyond that wait in line, up to
``max_waiting`` of them and for at most ``max_wait_s`` each; the next one is refused at once
with ``ProviderBusy`` (429, with a ``retry-after`` estimated from the recent generation times).
Waiting is not failing: a busy model never counts against its circuit breaker, and the slot is
taken in the event loop, so queued requests hold no worker thread.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from kernel.errors import ProviderBusy


class GenerationSlot:
    def __init__(self, *, provider: str, max_waiting: int = 8, max_wait_s: float = 240.0) -> None:
        if max_waiting < 0 or max_wait_s <= 0:
            raise ValueError("max_waiting must be >= 0 and max_wait_s > 0")
        self.provider = provider
        self.max_waiting = max_waiting
        self.max_wait_s = max_wait_s
        self.taken = 0  # the request generating now plus those waiting (counted at once)
        self._lock: asyncio.Lock | None = None
        self._recent_s = 10.0  # moving average of a generation's duration

    @property
    def waiting(self) -> int:
        return max(0, self.taken - 1)

    def _retry_after(self) -> float:
        return max(1.0, round(self._recent_s * self.taken))

    @asynccontextmanager
    async def held(self, model: str) -> AsyncIterator[None]:
        """Hold the slot for one generation (waiting in line for it first)."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        lock = self._lock
        if self.taken > self.max_waiting:
            raise ProviderBusy(
                f"{self.provider}: {self.waiting} requests already wait for the local model",
                retry_after=self._retry_after(),
                provider=self.provider,
                model=model,
            )
        self.taken += 1
        try:
            await asyncio.wait_for(lock.acquire(), self.max_wait_s)
        except TimeoutError:
            self.taken -= 1
            raise ProviderBusy(
                f"{self.provider}: waited {self.max_wait_s:g} s for the local model",
                retry_after=self._retry_after(),
                provider=self.provider,
                model=model,
            ) from None
        except BaseException:
            self.taken -= 1
            raise
        started = time.perf_counter()
        try:
            yield
        finally:
            took = time.perf_counter() - started
            self._recent_s = 0.8 * self._recent_s + 0.2 * took
            lock.release()
            self.taken -= 1
