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
from typing import Literal

FaultKind = Literal["status", "slow", "reset", "error_after_start"]

_DEFAULT_MESSAGES = {
    400: "Invalid request (scripted fault)",
    401: "invalid x-api-key",
    403: "Your API key does not have permission to use the specified resource.",
    404: "The requested resource could not be found.",
    413: "Request exceeds the maximum allowed number of bytes.",
    429: "Number of requests has exceeded your rate limit (scripted fault).",
    500: "Internal server error",
    503: "Service unavailable",
    529: "Overloaded",
}


@dataclass(frozen=True)
class Fault:
    kind: FaultKind
    status_code: int = 0
    retry_after: float | None = None
    seconds: float = 0.0
    message: str = ""
    error_type: str = "overloaded_error"  # for error_after_start

    @classmethod
    def status(cls, code: int, *, retry_after: float | None = None, message: str = "") -> Fault:
        """Answer with this HTTP status and the vendor's error body (``retry-after`` if given)."""
        if not 400 <= code <= 599:
            raise ValueError(f"status fault needs an HTTP error status 400-599, got {code}")
        return cls(
            "status",
            status_code=code,
            retry_after=retry_after,
            message=message or _DEFAULT_MESSAGES.get(code, f"HTTP {code}"),
        )

    @classmethod
    def slow(cls, seconds: float) -> Fault:
        """Wait ``seconds`` (real time) before answering normally: a client timeout trips."""
        if seconds < 0:
            raise ValueError("slow fault needs seconds >= 0")
        return cls("slow", seconds=seconds)

    @classmethod
    def reset(cls) -> Fault:
        """Reset the TCP connection (RST) without sending any byte of a response."""
        return cls("reset")

    @classmethod
    def error_after_start(
        cls, *, error_type: str = "overloaded_error", message: str = "Overloaded"
    ) -> Fault:
        """Stream: HTTP 200, the first events, then an ``error`` event. Non-stream: HTTP 200 with a
        body cut short by a connection reset."""
        return cls("error_after_start", error_type=error_type, message=message)


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
