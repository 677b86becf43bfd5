"""A clock the test (or demo) moves by hand, for the emulator's prompt-cache TTLs."""

from __future__ import annotations

import threading


class ManualClock:
    """``clock()`` returns the current reading; ``advance(seconds)`` moves it forward."""

    def __init__(self, start: float = 1_000.0) -> None:
        self._now = start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("a clock does not go back")
        with self._lock:
            self._now += seconds
            return self._now

    def set(self, value: float) -> None:
        with self._lock:
            self._now = value
