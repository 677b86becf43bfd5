"""Timeouts: per attempt (one call, or each gap between stream events) and per tier (total).

A ``Deadline`` is shared by everything one tier does (retries, backoff, fallbacks): each
attempt's timeout is capped by what is left of it, the retry wrapper gives up rather than sleep
past it, and the fallback wrapper tries no further model once it has passed. For a stream, the
total applies up to the commit point; after it only the per-event gap does.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from gateway.providers.base import Provider
from gateway.resilience.streams import COMMIT_EVENTS, close_quietly
from gateway.types import ModelRequest, ModelResponse, StreamEvent
from kernel.clock import Clock
from kernel.errors import ProviderTimeout


class Deadline:
    __slots__ = ("clock", "expires", "seconds")

    def __init__(self, clock: Clock, seconds: float) -> None:
        self.clock = clock
        self.seconds = seconds
        self.expires = clock.monotonic() + seconds

    def remaining(self) -> float:
        return self.expires - self.clock.monotonic()


class AttemptTimeout:
    """One call may take ``seconds``, and never past the tier's deadline.

    In a stream the limit applies to the wait for each next event; the deadline only until the
    commit point (the first content event), after which a long answer may take its time.
    """

    __slots__ = ("deadline", "inner", "model", "name", "provider", "seconds")

    def __init__(
        self,
        inner: Provider,
        seconds: float,
        *,
        provider: str,
        model: str,
        deadline: Deadline | None = None,
    ) -> None:
        self.inner = inner
        self.seconds = seconds
        self.deadline = deadline
        self.name = inner.name
        self.provider = provider
        self.model = model

    def _limit(self, committed: bool = False) -> tuple[float, bool]:
        """(seconds allowed, whether the tier's deadline is what limits them)."""
        if self.deadline is None or committed:
            return self.seconds, False
        remaining = self.deadline.remaining()
        if remaining < self.seconds:
            return max(0.0, remaining), True
        return self.seconds, False

    def _error(self, what: str, by_deadline: bool) -> ProviderTimeout:
        if by_deadline and self.deadline is not None:
            message = f"no {what} within the tier's total {self.deadline.seconds:g}s"
        else:
            message = f"no {what} within {self.seconds:g}s"
        return ProviderTimeout(
            f"{self.provider}/{self.model}: {message}", provider=self.provider, model=self.model
        )

    async def complete(self, request: ModelRequest) -> ModelResponse:
        limit, by_deadline = self._limit()
        if limit <= 0:
            raise self._error("answer", True)
        try:
            async with asyncio.timeout(limit):
                return await self.inner.complete(request)
        except TimeoutError:
            raise self._error("answer", by_deadline) from None

    async def stream(self, request: ModelRequest) -> AsyncIterator[StreamEvent]:
        it = self.inner.stream(request).__aiter__()
        committed = False
        try:
            while True:
                limit, by_deadline = self._limit(committed)
                if limit <= 0:
                    raise self._error("stream event", True)
                try:
                    async with asyncio.timeout(limit):
                        event = await it.__anext__()
                except StopAsyncIteration:
                    return
                except TimeoutError:
                    raise self._error("stream event", by_deadline) from None
                committed = committed or event.type in COMMIT_EVENTS
                yield event
        finally:
            await close_quietly(it)

    async def count_tokens(self, request: ModelRequest) -> int:
        try:
            async with asyncio.timeout(self.seconds):
                return await self.inner.count_tokens(request)
        except TimeoutError:
            raise self._error("token count", False) from None
