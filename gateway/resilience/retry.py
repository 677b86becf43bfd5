"""Retries with exponential backoff that honour ``retry-after`` (tenacity, injected sleep).

Retried: 429, 500, 502, 503, 504, 529, timeouts, connection resets and streams broken before
their first content event (the error's ``retryable`` flag, see kernel/errors.py). Never:
400, 401, 403, 404, an open circuit (another model is tried instead) or anything after a
stream's first content event. A ``retry-after`` above the policy's ``max_retry_after_s``, or a
wait that would pass the tier's deadline, ends the retries at once so the tier falls back.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception

from gateway.config import RetryPolicy
from gateway.providers.base import Provider
from gateway.resilience.streams import close_quietly, open_stream, replay
from gateway.resilience.timeout import Deadline
from gateway.resilience.trace import CallStats
from gateway.types import ModelRequest, ModelResponse, StreamEvent
from kernel.clock import Sleep
from kernel.errors import CircuitOpen, ProviderError, ProviderStatusError

T = TypeVar("T")


def is_retryable(exc: BaseException) -> bool:
    return isinstance(exc, ProviderError) and exc.retryable and not isinstance(exc, CircuitOpen)


def retry_after_of(exc: BaseException | None) -> float | None:
    if isinstance(exc, ProviderStatusError) and exc.retry_after is not None:
        return max(0.0, float(exc.retry_after))
    return None


class Retry:
    __slots__ = ("deadline", "inner", "name", "policy", "sleep", "stats")

    def __init__(
        self,
        inner: Provider,
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

    # Tenacity policy ------------------------------------------------------------------------
    def _wait(self, state: RetryCallState) -> float:
        p = self.policy
        backoff = min(
            p.max_backoff_s, p.initial_backoff_s * p.multiplier ** (state.attempt_number - 1)
        )
        exc = state.outcome.exception() if state.outcome is not None else None
        after = retry_after_of(exc)
        return backoff if after is None else max(backoff, after)

    def _stop(self, state: RetryCallState) -> bool:
        if state.attempt_number >= self.policy.max_attempts:
            return True
        exc = state.outcome.exception() if state.outcome is not None else None
        after = retry_after_of(exc)
        if after is not None and after > self.policy.max_retry_after_s:
            return True
        return self.deadline is not None and state.upcoming_sleep >= self.deadline.remaining()

    async def _before_sleep(self, state: RetryCallState) -> None:
        self.stats.retries += 1

    def _retrying(self) -> AsyncRetrying:
        return AsyncRetrying(
            sleep=self.sleep,
            stop=self._stop,
            wait=self._wait,
            retry=retry_if_exception(is_retryable),
            before_sleep=self._before_sleep,
            reraise=True,
        )

    async def _run(self, fn: Callable[[], Awaitable[T]]) -> T:
        # The first attempt runs bare (the hot path); tenacity takes over after a retryable
        # failure, replaying that failure as its own first attempt so its counts stay exact.
        try:
            return await fn()
        except Exception as exc:
            if self.policy.max_attempts == 1 or not is_retryable(exc):
                raise
            first: list[BaseException] = [exc]

        async def attempt() -> T:  # tenacity awaits only coroutine functions
            if first:
                raise first.pop()
            return await fn()

        return await self._retrying()(attempt)

    # Provider -------------------------------------------------------------------------------
    async def complete(self, request: ModelRequest) -> ModelResponse:
        return await self._run(lambda: self.inner.complete(request))

    async def stream(self, request: ModelRequest) -> AsyncIterator[StreamEvent]:
        held, rest = await self._run(lambda: open_stream(self.inner.stream(request)))
        events = replay(held, rest)
        try:
            async for event in events:
                yield event
        finally:
            await close_quietly(events)

    async def count_tokens(self, request: ModelRequest) -> int:
        return await self._run(lambda: self.inner.count_tokens(request))
