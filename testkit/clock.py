"""The one fake clock of the test doubles: time that moves only when told (or on ``sleep``).

    clock = ManualClock()                     # kernel.clock.Clock: monotonic(), now()
    gw = Gateway(catalogue, clock=clock, sleep=clock.sleep)   # retries' backoff never waits
    emu = EmulatorServer(clock=clock)         # prompt-cache TTLs expire on clock.advance(300)
    clock.advance(301)

``clock()`` reads the seconds (the emulator's form), ``monotonic()`` the same reading,
``now()`` the wall time it stands for, and ``await clock.sleep(s)`` moves it forward at once.
``follows_real_time=True`` adds the real time elapsed to ``monotonic()``, so a real timeout
(a scripted hang cut off by ``asyncio``) still uses up a deadline measured on this clock.
``step`` moves the clock forward by that much at every reading (stable, ordered ids).
"""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime, timedelta

EPOCH = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


class ManualClock:
    def __init__(
        self,
        start: float = 1_000.0,
        *,
        follows_real_time: bool = False,
        step: float = 0.0,
        wall_start: datetime = EPOCH,
    ) -> None:
        self._start = start
        self._now = start
        self._step = step
        self._wall_start = wall_start
        self._real0 = time.perf_counter() if follows_real_time else None
        self._lock = threading.Lock()
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        with self._lock:
            self._now += self._step
            return self._now

    def monotonic(self) -> float:
        real = 0.0 if self._real0 is None else time.perf_counter() - self._real0
        with self._lock:
            return self._now + real

    def now(self) -> datetime:
        with self._lock:
            return self._wall_start + timedelta(seconds=self._now - self._start)

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("a clock does not go back")
        with self._lock:
            self._now += seconds
            return self._now

    def set(self, value: float) -> None:
        with self._lock:
            self._now = value

    async def sleep(self, seconds: float) -> None:
        """Return at once, the clock ``seconds`` later (the sleep is recorded in ``sleeps``)."""
        self.sleeps.append(seconds)
        self.advance(max(0.0, seconds))
        await asyncio.sleep(0)
