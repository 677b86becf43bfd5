"""The one fault language of the test doubles: what a provider does instead of (or while)
answering. The wire emulator plays faults over real HTTP; the scripted provider raises the
errors a real provider would raise for them.

    Fault.status(429, retry_after=2)   HTTP error status with the vendor's error body
    Fault.slow(2.0)                    answer normally, but only after 2 s
    Fault.hang()                       never answer (the caller's timeout must cut it)
    Fault.reset()                      reset the connection, no response at all
    Fault.error_after_start()          HTTP 200, the first events, then an error event
    Fault.error_after_start(1)         the same, cut after exactly one event (scripted only)
    Fault.empty()                      a stream that ends without any event

The emulator cannot hang a connection forever nor send an empty 200 stream, and it always
cuts a broken stream after its first text delta: pushing ``hang``, ``empty`` or an
``error_after_start`` with ``after_events`` onto it is refused with a ``ValueError`` that
says so. The scripted provider plays every kind.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

FaultKind = Literal["status", "slow", "hang", "reset", "error_after_start", "empty"]

STATUS_MESSAGES = {
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
    after_events: int | None = None  # None: where the double cuts by default
    message: str = ""
    error_type: str = "overloaded_error"

    @classmethod
    def status(cls, code: int, retry_after: float | None = None, message: str = "") -> Fault:
        """This HTTP status and the vendor's error body (``retry-after`` when given)."""
        if not 400 <= code <= 599:
            raise ValueError(f"status fault needs an HTTP error status 400-599, got {code}")
        return cls("status", status_code=code, retry_after=retry_after, message=message)

    @classmethod
    def slow(cls, seconds: float) -> Fault:
        """Answer normally after ``seconds`` (real time on the emulator; the scripted
        provider sleeps with its injected sleep)."""
        if seconds < 0:
            raise ValueError("slow fault needs seconds >= 0")
        return cls("slow", seconds=seconds)

    @classmethod
    def hang(cls) -> Fault:
        return cls("hang")

    @classmethod
    def reset(cls) -> Fault:
        """Reset the connection without sending any byte of a response."""
        return cls("reset")

    @classmethod
    def error_after_start(
        cls,
        after_events: int | None = None,
        *,
        error_type: str = "overloaded_error",
        message: str = "Overloaded",
    ) -> Fault:
        """Stream: HTTP 200, the first events, then an ``error`` event; non-stream: a body cut
        short. ``after_events`` says how many events come first (scripted provider only; it
        sends 3 when not told, the emulator everything up to its first text delta)."""
        if after_events is not None and after_events < 0:
            raise ValueError(f"error_after_start needs after_events >= 0, got {after_events}")
        return cls(
            "error_after_start", after_events=after_events, error_type=error_type, message=message
        )

    @classmethod
    def empty(cls) -> Fault:
        return cls("empty")

    @property
    def status_message(self) -> str:
        """The error message a status fault sends (its own, else the vendor's usual one)."""
        return self.message or STATUS_MESSAGES.get(self.status_code, f"HTTP {self.status_code}")
