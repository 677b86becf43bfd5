"""What one request went through: an ``AttemptRecord`` per model tried, with its cost.

A ``Trace`` is created per request and handed to the wrappers composed for it; each model
candidate appends one record (its retries folded in), fallback and escalation re-label them.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.config import ModelSpec
from gateway.pricing import cost_nano_usd, nano_to_usd
from gateway.types import AttemptRecord, Usage, Verdict
from kernel.clock import Clock
from kernel.errors import ApiError, ProviderError, ProviderStatusError

# Upstream answers that say the request itself is wrong: neither retried nor sent elsewhere.
CLIENT_FAULT_STATUSES = frozenset({400, 413, 422})


def is_client_fault(exc: BaseException) -> bool:
    return isinstance(exc, ProviderStatusError) and exc.upstream_status in CLIENT_FAULT_STATUSES


def error_class(exc: BaseException) -> str:
    """A short stable name for the ledger: the API error code, else the exception type."""
    if isinstance(exc, ApiError):
        if isinstance(exc, ProviderStatusError):
            return f"{exc.code}_{exc.upstream_status}"
        return exc.code
    if isinstance(exc, GeneratorExit | TimeoutError):
        return "cancelled" if isinstance(exc, GeneratorExit) else "timeout"
    name = type(exc).__name__
    return "cancelled" if name == "CancelledError" else name


@dataclass
class CallStats:
    """Counters a retry wrapper fills for the record of its model candidate."""

    retries: int = 0


class Trace:
    __slots__ = ("attempts", "clock", "final_verdict", "inflight", "tier")

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.attempts: list[AttemptRecord] = []
        self.tier = 0
        self.final_verdict: Verdict | None = None
        self.inflight: float | None = None  # when the model call under way started

    def upstream_ms(self) -> float:
        """Time spent in model calls so far (finished attempts plus the one under way)."""
        done = sum(a.latency_ms for a in self.attempts)
        if self.inflight is None:
            return done
        return done + (self.clock.monotonic() - self.inflight) * 1000.0

    def record(
        self,
        spec: ModelSpec,
        *,
        usage: Usage,
        started: float,
        ttft: float | None,
        error: BaseException | None,
        retries: int,
    ) -> AttemptRecord:
        nano = cost_nano_usd(usage, spec)
        now = self.clock.monotonic()
        self.inflight = None
        record = AttemptRecord(
            tier=self.tier,
            model_alias=spec.alias,
            model_id=spec.model_id,
            provider=spec.provider,
            usage=usage,
            cost_usd=nano_to_usd(nano),
            latency_ms=(now - started) * 1000.0,
            ttft_ms=None if ttft is None else (ttft - started) * 1000.0,
            outcome="ok" if error is None else "error",
            error_class=None if error is None else error_class(error),
            retries=retries,
            cost_nano_usd=nano,
        )
        self.attempts.append(record)
        return record

    def relabel_last(self, outcome: str, reason: str | None = None) -> None:
        """Mark the latest record as ``fallback`` or ``escalated`` (with the reason)."""
        if not self.attempts:
            return
        last = self.attempts[-1]
        if outcome == "fallback":
            last.outcome = "fallback"
        elif outcome == "escalated":
            last.outcome = "escalated"
            last.escalation_reason = reason


def provider_error_of(exc: BaseException) -> ProviderError | None:
    return exc if isinstance(exc, ProviderError) else None
