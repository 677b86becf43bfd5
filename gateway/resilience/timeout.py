"""Timeouts: per attempt (one call, or each gap between stream events) and per tier (total).

A ``Deadline`` is shared by everything one tier does (retries, backoff, fallbacks): the retry
wrapper reads it to give up instead of sleeping past it, and ``TotalTimeout`` enforces it.
For a stream, the total applies up to the commit point; after it only the per-event gap does.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from gateway.clock import Clock
from gateway.errors import ProviderTimeout
from gateway.providers.base import Provider
from gateway.resilience.streams import close_quietly
from gateway.types import ModelRequest, ModelResponse, StreamEvent


class Deadline:
    __slots__ = ("clock", "expires", "seconds")

    def __init__(self, clock: Clock, seconds: float) -> None:
        self.clock = clock
        self.seconds = seconds
        self.expires = clock.monotonic() + seconds

    def remaining(self) -> float:
        return self.expires - self.clock.monotonic()


class AttemptTimeout:
    """One call may take ``seconds``; in a stream, so may the wait for each next event."""

    __slots__ = ("inner", "model", "name", "provider", "seconds")

    def __init__(self, inner: Provider, seconds: float, *, provider: str, model: str) -> None:
        self.inner = inner
        self.seconds = seconds
        self.name = inner.name
        self.provider = provider
        self.model = model

    def _error(self, what: str) -> ProviderTimeout:
        return ProviderTimeout(
            f"{self.provider}/{self.model}: no {what} within {self.seconds:g}s",
            provider=self.provider,
            model=self.model,
        )

    async def complete(self, request: ModelRequest) -> ModelResponse:
        try:
            async with asyncio.timeout(self.seconds):
                return await self.inner.complete(request)
        except TimeoutError:
            raise self._error("answer") from None

    async def stream(self, request: ModelRequest) -> AsyncIterator[StreamEvent]:
        it = self.inner.stream(request).__aiter__()
        try:
            while True:
                try:
                    async with asyncio.timeout(self.seconds):
                        event = await it.__anext__()
                except StopAsyncIteration:
                    return
                except TimeoutError:
                    raise self._error("stream event") from None
                yield event
        finally:
            await close_quietly(it)

    async def count_tokens(self, request: ModelRequest) -> int:
        try:
            async with asyncio.timeout(self.seconds):
                return await self.inner.count_tokens(request)
        except TimeoutError:
            raise self._error("token count") from None


class TotalTimeout:
    """Everything a tier does (retries, backoff, fallbacks) must end by the deadline."""

    __slots__ = ("deadline", "inner", "label", "name")

    def __init__(self, inner: Provider, deadline: Deadline, *, label: str) -> None:
        self.inner = inner
        self.deadline = deadline
        self.name = inner.name
        self.label = label

    def _error(self) -> ProviderTimeout:
        return ProviderTimeout(
            f"{self.label}: no answer within the tier's total {self.deadline.seconds:g}s"
        )

    async def complete(self, request: ModelRequest) -> ModelResponse:
        try:
            async with asyncio.timeout(max(0.0, self.deadline.remaining())):
                return await self.inner.complete(request)
        except TimeoutError:
            raise self._error() from None

    async def stream(self, request: ModelRequest) -> AsyncIterator[StreamEvent]:
        it = self.inner.stream(request).__aiter__()
        try:
            try:
                async with asyncio.timeout(max(0.0, self.deadline.remaining())):
                    first = await it.__anext__()
            except StopAsyncIteration:
                return
            except TimeoutError:
                raise self._error() from None
            yield first
            async for event in it:
                yield event
        finally:
            await close_quietly(it)

    async def count_tokens(self, request: ModelRequest) -> int:
        return await self.inner.count_tokens(request)
