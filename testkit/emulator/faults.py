"""Scripted faults: what the emulator does instead of (or while) answering a request.

    emu.faults.push(Fault.status(429, retry_after=2))            # next request: 429 + retry-after
    emu.faults.push(Fault.status(529), model="claude-haiku", times=3)
    emu.faults.push(Fault.slow(2.0))                              # answer after 2 s (wall clock)
    emu.faults.push(Fault.reset())                                # TCP reset, no response at all
    emu.faults.push(Fault.error_after_start())                    # 200, first events, then error

A fault applies to the next ``times`` generation requests (``/v1/messages`` and
``/v1/chat/completions``) whose model starts with ``model`` (any model when None), in the order
pushed. ``count_tokens`` and ``/v1/models`` never take faults.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from testkit.faults import Fault


@dataclass
class _Pending:
    fault: Fault
    model: str | None
    remaining: int


class FaultQueue:
    """Faults waiting for requests (thread-safe: the test thread pushes, the server pops)."""

    def __init__(self) -> None:
        self._pending: list[_Pending] = []
        self._lock = threading.Lock()

    def push(self, fault: Fault, model: str | None = None, times: int = 1) -> None:
        if times < 1:
            raise ValueError("times must be >= 1")
        if fault.kind in ("hang", "empty"):
            raise ValueError(
                f"the emulator cannot play a {fault.kind!r} fault over HTTP: use Fault.slow"
            )
        if fault.after_events is not None:
            raise ValueError(
                "the emulator cuts a broken stream after its first text delta: push "
                "Fault.error_after_start() without after_events (that count is for the "
                "scripted provider)"
            )
        with self._lock:
            self._pending.append(_Pending(fault, model, times))

    def clear(self) -> None:
        with self._lock:
            self._pending.clear()

    def __len__(self) -> int:
        with self._lock:
            return sum(p.remaining for p in self._pending)

    def take(self, model: str) -> Fault | None:
        """The fault for a request to ``model`` (consumed), or None."""
        with self._lock:
            for i, pending in enumerate(self._pending):
                if pending.model is None or model.startswith(pending.model):
                    pending.remaining -= 1
                    if pending.remaining == 0:
                        del self._pending[i]
                    return pending.fault
        return None
