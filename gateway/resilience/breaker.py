"""A circuit breaker per provider and model (pybreaker), with its state visible.

A model that fails ``fail_max`` times in a row is skipped (``CircuitOpen``) for
``reset_timeout_s``; then one trial call decides. Client faults (400/413/422) and cancellations
do not count as failures. pybreaker measures the open period on the wall clock; the storage
below reads an injected clock instead, so tests move time without waiting.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Literal

import pybreaker

from gateway.config import BreakerPolicy
from gateway.providers.base import Provider
from gateway.resilience.streams import close_quietly
from gateway.resilience.trace import is_client_fault
from gateway.types import ModelRequest, ModelResponse, StreamEvent
from kernel.clock import Clock
from kernel.errors import CircuitOpen, ProviderError


def _counts_as_failure(exc: BaseException) -> bool:
    return isinstance(exc, ProviderError) and not is_client_fault(exc)


class _ClockStorage(pybreaker.CircuitMemoryStorage):  # type: ignore[misc]
    """Keeps ``opened_at`` on the injected clock, translated for pybreaker's wall-clock check."""

    def __init__(self, clock: Clock) -> None:
        super().__init__(pybreaker.STATE_CLOSED)
        self._clock = clock
        self._opened_on_clock: datetime | None = None

    @property
    def opened_at(self) -> datetime | None:
        if self._opened_on_clock is None:
            return None
        return self._opened_on_clock + (datetime.now(UTC) - self._clock.now())

    @opened_at.setter
    def opened_at(self, value: datetime) -> None:
        self._opened_on_clock = self._clock.now()


class Breakers:
    """The breakers of one gateway, one per ``provider/alias``, created on first use."""

    def __init__(self, policy: BreakerPolicy, clock: Clock) -> None:
        self.policy = policy
        self.clock = clock
        self._breakers: dict[str, pybreaker.CircuitBreaker] = {}

    def get(self, key: str) -> pybreaker.CircuitBreaker:
        breaker = self._breakers.get(key)
        if breaker is None:
            breaker = pybreaker.CircuitBreaker(
                fail_max=self.policy.fail_max,
                reset_timeout=self.policy.reset_timeout_s,
                exclude=[lambda exc: not _counts_as_failure(exc)],
                state_storage=_ClockStorage(self.clock),
                throw_new_error_on_trip=False,
                name=key,
            )
            self._breakers[key] = breaker
        return breaker

    def states(self) -> dict[str, str]:
        """``{"anthropic/claude-haiku-4-5": "closed" | "open" | "half-open"}``."""
        return {key: str(b.current_state) for key, b in sorted(self._breakers.items())}


class Breaker:
    """Fails fast with ``CircuitOpen`` while the model's circuit is open."""

    __slots__ = ("breaker", "inner", "model", "name", "provider")

    def __init__(
        self, inner: Provider, breaker: pybreaker.CircuitBreaker, *, provider: str, model: str
    ) -> None:
        self.inner = inner
        self.breaker = breaker
        self.name = inner.name
        self.provider = provider
        self.model = model

    def _open(self) -> CircuitOpen:
        return CircuitOpen(
            f"{self.provider}/{self.model}: circuit open after repeated failures",
            provider=self.provider,
            model=self.model,
        )

    async def complete(self, request: ModelRequest) -> ModelResponse:
        try:
            guard = self.breaker.calling()
            guard.__enter__()
        except pybreaker.CircuitBreakerError:
            raise self._open() from None
        with _Exit(guard):
            return await self.inner.complete(request)

    async def stream(self, request: ModelRequest) -> AsyncIterator[StreamEvent]:
        try:
            guard = self.breaker.calling()
            guard.__enter__()
        except pybreaker.CircuitBreakerError:
            raise self._open() from None
        it = self.inner.stream(request).__aiter__()
        try:
            with _Exit(guard):
                async for event in it:
                    yield event
        finally:
            await close_quietly(it)

    async def count_tokens(self, request: ModelRequest) -> int:
        return await self.inner.count_tokens(request)


class _Exit:
    """Leaves an entered pybreaker guard, reporting the block's outcome to it."""

    __slots__ = ("guard",)

    def __init__(self, guard: object) -> None:
        self.guard = guard

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> Literal[False]:
        if exc is None:
            self.guard.__exit__(None, None, None)  # type: ignore[attr-defined]
            return False
        try:
            self.guard.__exit__(type(exc), exc, exc.__traceback__)  # type: ignore[attr-defined]
        except BaseException as raised:
            if raised is not exc:
                raise
        return False
