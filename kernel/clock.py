"""Time, injected: a monotonic clock for durations, a wall clock for timestamps, and sleep."""

from __future__ import annotations

import asyncio
import functools
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
    # The C functions themselves, not methods that call them: a model call reads the clock
    # about eight times, and a Python frame for each was measurable on the gateway's path.
    monotonic = staticmethod(time.perf_counter)
    now = staticmethod(functools.partial(datetime.now, UTC))


SYSTEM_CLOCK = SystemClock()


async def real_sleep(seconds: float) -> None:
    await asyncio.sleep(seconds)
