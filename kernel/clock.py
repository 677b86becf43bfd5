"""Time, injected: a monotonic clock for durations, a wall clock for timestamps, and sleep."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Protocol

Sleep = Callable[[float], Awaitable[None]]


class Clock(Protocol):
    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (durations, deadlines)."""
        ...

    def now(self) -> datetime:
        """The current time, UTC (timestamps written to the ledger)."""
        ...


class SystemClock:
    def monotonic(self) -> float:
        return time.perf_counter()

    def now(self) -> datetime:
        return datetime.now(UTC)


SYSTEM_CLOCK = SystemClock()


async def real_sleep(seconds: float) -> None:
    await asyncio.sleep(seconds)
