"""Retries with exponential backoff that honour ``retry-after``, on the injected sleep.

Retried: 429, 500, 502, 503, 504, 529, timeouts, connection resets and streams broken before
their first content event (the error's ``retryable`` flag, see kernel/errors.py). Never:
400, 401, 403, 404, an open circuit (another model is tried instead) or anything after a
stream's first content event. A ``retry-after`` above the policy's ``max_retry_after_s``, or a
wait that would pass the tier's deadline, ends the retries at once so the tier falls back.

A plain loop: the first attempt is the hot path and costs nothing beyond the call itself.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

from gateway.config import RetryPolicy
from gateway.providers.base import EventSource
from gateway.resilience.streams import Handoff, open_stream
from gateway.resilience.timeout import Deadline
from gateway.resilience.trace import CallStats
from gateway.types import ModelRequest, StreamEvent
from kernel.clock import Sleep
from kernel.errors import CircuitOpen, ProviderError, ProviderStatusError

T = TypeVar("T")


def is_retryable(exc: BaseException) -> bool:
    return isinstance(exc, ProviderError) and exc.retryable and not isinstance(exc, CircuitOpen)


def retry_after_of(exc: BaseException | None) -> float | None:
    if isinstance(exc, ProviderStatusError) and exc.retry_after is not None:
        return max(0.0, float(exc.retry_after))
    return None


def retry_wait(
    policy: RetryPolicy, attempt: int, exc: BaseException, deadline: Deadline | None
) -> float | None:
    """Seconds to wait before attempt ``attempt + 1``, or ``None`` to stop retrying."""
    p = policy
    if attempt >= p.max_attempts or not is_retryable(exc):
        return None
    after = retry_after_of(exc)
    if after is not None and after > p.max_retry_after_s:
        return None
    wait = min(p.max_backoff_s, p.initial_backoff_s * p.multiplier ** (attempt - 1))
    if after is not None:
        wait = max(wait, after)
    if deadline is not None and wait >= deadline.remaining():
        return None
    return wait


class Retry:
    __slots__ = ("deadline", "inner", "name", "policy", "sleep", "stats")

    def __init__(
        self,
        inner: EventSource,
        policy: RetryPolicy,
        *,
        sleep: Sleep,
        stats: CallStats,
        deadline: Deadline | None = None,
    ) -> None:
        self.inner = inner
        self.policy = policy
        self.sleep = sleep
        self.stats = stats
        self.deadline = deadline
        self.name = inner.name

    async def _run(self, fn: Callable[[], Awaitable[T]]) -> T:
        attempt = 1
        while True:
            try:
                return await fn()
            except Exception as exc:
                wait = retry_wait(self.policy, attempt, exc, self.deadline)
                if wait is None:
                    raise
            self.stats.retries += 1
            await self.sleep(wait)
            attempt += 1

    # EventSource -------------------------------------------------------------------------------
    def stream(self, request: ModelRequest) -> AsyncIterator[StreamEvent]:
        """Attempts up to the commit point; then the committed attempt's events, handed on."""
        return Handoff(lambda: self._run(lambda: open_stream(self.inner.stream(request))))

    async def count_tokens(self, request: ModelRequest) -> int:
        return await self._run(lambda: self.inner.count_tokens(request))
