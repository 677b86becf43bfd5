"""Timeouts: per attempt (one call, or each gap between stream events) and per tier (total).

A ``Deadline`` is shared by everything one tier does (retries, backoff, fallbacks): each
attempt's timeout is capped by what is left of it, the retry wrapper gives up rather than sleep
past it, and the fallback wrapper tries no further model once it has passed. For a stream, the
total applies up to the commit point; after it only the per-event gap does.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from gateway.providers.base import EventSource
from gateway.resilience.breaker import Circuit, circuit_open
from gateway.resilience.streams import COMMIT_EVENTS, close_quietly
from gateway.types import ModelRequest, StreamEvent
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


def attempt_limit(seconds: float, deadline: Deadline | None) -> tuple[float, bool]:
    """(seconds one attempt may take, whether the tier's deadline is what limits them)."""
    if deadline is None:
        return seconds, False
    remaining = deadline.remaining()
    if remaining < seconds:
        return max(0.0, remaining), True
    return seconds, False


def timeout_error(
    provider: str, model: str, seconds: float, deadline: Deadline | None, what: str
) -> ProviderTimeout:
    """No ``what`` within ``seconds``, or within the tier's total (``deadline``: it limited)."""
    if deadline is not None:
        message = f"no {what} within the tier's total {deadline.seconds:g}s"
    else:
        message = f"no {what} within {seconds:g}s"
    return ProviderTimeout(f"{provider}/{model}: {message}", provider=provider, model=model)


class _EventWatchdog:
    """The per-event limit of a committed stream with one timer for the whole stream.

    ``asyncio.timeout`` per event costs a timer handle, a heap push and a cancelled handle left
    in the loop's heap for every delta; at a hundred concurrent streams that was a tenth of the
    gateway's CPU per event. Here ``waiting`` marks each wait for the next event and the one
    timer, when it fires, either cancels the waiting task (the wait ran over) or re-arms itself
    for the current wait's end.
    """

    __slots__ = ("fired", "handle", "limit", "loop", "started", "task")

    def __init__(self, limit: float) -> None:
        self.loop = asyncio.get_running_loop()
        self.limit = limit
        self.task: asyncio.Task[object] | None = None  # the task waiting now; None: not waiting
        self.started = 0.0
        self.fired = False
        self.handle = self.loop.call_at(self.loop.time() + limit, self._check)

    def wait(self) -> None:
        self.started = self.loop.time()
        self.task = asyncio.current_task()

    def done(self) -> None:
        self.task = None

    def _check(self) -> None:
        now = self.loop.time()
        due = self.started + self.limit
        if self.task is not None and now >= due:
            self.fired = True
            self.task.cancel()
            return
        self.handle = self.loop.call_at(
            due if self.task is not None else now + self.limit, self._check
        )

    def close(self) -> None:
        self.handle.cancel()


class AttemptTimeout:
    """A stream's wait for each next event (or a token count) may take ``seconds``; until the
    commit point (the first content event) never past the tier's deadline either, after it a
    long answer may take its time. (A complete answer's attempt is bounded the same way by
    ``attempt_limit`` in gateway/resilience/tier.py.)

    With a ``circuit`` it is the attempt's breaker too: a stream starts only if the circuit
    admits it (else ``CircuitOpen``) and its outcome goes to the circuit when it ends, fails or
    is closed; one generator for both, as ``Tier._attempt`` is one loop for a complete answer.
    """

    __slots__ = ("circuit", "deadline", "inner", "model", "name", "provider", "seconds")

    def __init__(
        self,
        inner: EventSource,
        seconds: float,
        *,
        provider: str,
        model: str,
        deadline: Deadline | None = None,
        circuit: Circuit | None = None,
    ) -> None:
        self.inner = inner
        self.seconds = seconds
        self.deadline = deadline
        self.circuit = circuit
        self.name = inner.name
        self.provider = provider
        self.model = model

    def _limit(self, committed: bool = False) -> tuple[float, bool]:
        return attempt_limit(self.seconds, None if committed else self.deadline)

    def _error(self, what: str, by_deadline: bool) -> ProviderTimeout:
        deadline = self.deadline if by_deadline else None
        return timeout_error(self.provider, self.model, self.seconds, deadline, what)

    async def stream(self, request: ModelRequest) -> AsyncIterator[StreamEvent]:
        circuit = self.circuit
        if circuit is not None and not circuit.admit():
            raise circuit_open(self.provider, self.model)
        it = self.inner.stream(request).__aiter__()
        watchdog: _EventWatchdog | None = None
        try:
            while watchdog is None:  # up to the commit point: each wait also within the deadline
                limit, by_deadline = self._limit()
                if limit <= 0:
                    raise self._error("stream event", True)
                try:
                    async with asyncio.timeout(limit):
                        event = await it.__anext__()
                except StopAsyncIteration:  # ended before the commit point
                    break
                except TimeoutError:
                    raise self._error("stream event", by_deadline) from None
                if event.type in COMMIT_EVENTS:
                    watchdog = _EventWatchdog(self.seconds)
                yield event
            while watchdog is not None:  # after it: each wait within ``seconds``, one timer
                watchdog.wait()
                try:
                    event = await it.__anext__()
                except StopAsyncIteration:
                    break
                except asyncio.CancelledError:
                    task = asyncio.current_task()
                    if not watchdog.fired or task is None or task.uncancel() > 0:
                        raise  # a cancellation from elsewhere
                    raise self._error("stream event", False) from None
                finally:
                    watchdog.done()
                yield event
        except BaseException as exc:  # a failure, or the caller closing it: the circuit decides
            if circuit is not None:
                circuit.record(exc)
            raise
        finally:
            if watchdog is not None:
                watchdog.close()
            await close_quietly(it)
        if circuit is not None:
            circuit.record(None)

    async def count_tokens(self, request: ModelRequest) -> int:
        try:
            async with asyncio.timeout(self.seconds):
                return await self.inner.count_tokens(request)
        except TimeoutError:
            raise self._error("token count", False) from None
