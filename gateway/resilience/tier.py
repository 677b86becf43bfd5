"""``Tier``: one tier of a route, for one request: its model, then its fallbacks, in order.

A complete answer is asked for in one loop per candidate: the circuit admits the call, the
attempt runs within its timeout and the tier's deadline, a retryable failure waits its backoff
and tries again, and the candidate's ``AttemptRecord`` goes to the trace, with each decision
made by the same functions the stream wrappers use (``retry_wait``, ``attempt_limit``,
``Circuit``, ``out_of_time``, ``Trace.record``). Every model call passes here; as five nested
wrappers built per request (``Recorded(Retry(Breaker(AttemptTimeout(Pinned))))`` in a
``Fallback``) the layers were a seventh of a request's Python calls. A stream keeps wrappers,
built when it starts: ``Fallback(Recorded(Retry(AttemptTimeout(Pinned, circuit))))``; the ones
that only choose a stream (the retries up to the commit point, the fallback) hand the chosen
one on (``streams.Handoff``), so each relayed event passes only the layers that do something
with it (the attempt's timeout and circuit, one generator; the record).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from functools import cached_property

from gateway.config import ModelSpec, TierSpec
from gateway.providers.base import Provider
from gateway.resilience.breaker import Breakers, Circuit, circuit_open
from gateway.resilience.fallback import Fallback, combined_error, out_of_time
from gateway.resilience.model_call import Pinned, Recorded
from gateway.resilience.retry import Retry, retry_wait
from gateway.resilience.timeout import AttemptTimeout, Deadline, attempt_limit, timeout_error
from gateway.resilience.trace import CallStats, Trace, is_client_fault
from gateway.types import ModelRequest, ModelResponse, StreamEvent, Usage
from kernel.clock import Clock, Sleep
from kernel.errors import ProviderError


@dataclass(frozen=True)
class Candidate:
    spec: ModelSpec
    provider: Provider

    # Fixed for the plan's life, so made once rather than per request.
    @cached_property
    def pinned(self) -> Pinned:
        return Pinned(self.provider, self.spec)

    @cached_property
    def breaker_key(self) -> str:
        return f"{self.spec.provider}/{self.spec.alias}"


@dataclass(frozen=True)
class TierPlan:
    index: int
    spec: TierSpec
    candidates: tuple[Candidate, ...]
    skipped: tuple[str, ...]  # aliases whose provider is not available

    @property
    def aliases(self) -> tuple[str, ...]:
        return tuple(c.spec.alias for c in self.candidates)


class Tier:
    """What ``Composer.tier`` builds for one request (an ``Escalation`` asks it for answers)."""

    __slots__ = ("breakers", "clock", "deadline", "label", "name", "plan", "sleep", "trace")

    def __init__(
        self,
        plan: TierPlan,
        trace: Trace,
        *,
        label: str,
        breakers: Breakers,
        clock: Clock,
        sleep: Sleep,
    ) -> None:
        self.plan = plan
        self.trace = trace
        self.label = label
        self.name = label
        self.breakers = breakers
        self.clock = clock
        self.sleep = sleep
        self.deadline = Deadline(clock, plan.spec.total_timeout_s)  # retries, waits, fallbacks

    async def complete(self, request: ModelRequest) -> ModelResponse:
        """The first candidate that answers; a client fault at once; else every error."""
        errors: list[ProviderError] = []
        candidates = self.plan.candidates
        last = len(candidates) - 1
        for i, candidate in enumerate(candidates):
            if i and out_of_time(self.deadline, self.label, errors):
                break
            try:
                return await self._answer(candidate, request)
            except ProviderError as exc:
                if is_client_fault(exc):
                    raise
                errors.append(exc)
                if i < last:
                    self.trace.relabel_last("fallback")
        raise combined_error(self.label, errors)

    async def _answer(self, candidate: Candidate, request: ModelRequest) -> ModelResponse:
        """One candidate's answer, retried as its tier's policy allows, recorded in the trace
        (what ``Recorded(Retry(...))`` does for a stream)."""
        spec, trace = candidate.spec, self.trace
        circuit = self.breakers.get(candidate.breaker_key)
        started = trace.inflight = self.clock.monotonic()
        retries = 0
        try:
            while True:
                try:
                    response = await self._attempt(candidate, circuit, request)
                    break
                except Exception as exc:
                    wait = retry_wait(self.plan.spec.retry, retries + 1, exc, self.deadline)
                    if wait is None:
                        raise
                retries += 1
                await self.sleep(wait)
        except BaseException as exc:
            trace.record(
                spec, usage=Usage(), started=started, ttft=None, error=exc, retries=retries
            )
            raise
        trace.record(
            spec, usage=response.usage, started=started, ttft=None, error=None, retries=retries
        )
        return response

    async def _attempt(
        self, candidate: Candidate, circuit: Circuit, request: ModelRequest
    ) -> ModelResponse:
        """One attempt: admitted by the circuit, within its timeout and the tier's deadline,
        its outcome recorded by the circuit (a stream: ``AttemptTimeout`` with the circuit)."""
        spec, seconds = candidate.spec, self.plan.spec.attempt_timeout_s
        if not circuit.admit():
            raise circuit_open(spec.provider, spec.model_id)
        try:
            limit, by_deadline = attempt_limit(seconds, self.deadline)
            if limit <= 0:
                raise timeout_error(spec.provider, spec.model_id, seconds, self.deadline, "answer")
            try:
                async with asyncio.timeout(limit):
                    response = await candidate.pinned.complete(request)
            except TimeoutError:
                deadline = self.deadline if by_deadline else None
                raise timeout_error(
                    spec.provider, spec.model_id, seconds, deadline, "answer"
                ) from None
        except BaseException as exc:
            circuit.record(exc)
            raise
        circuit.record(None)
        return response

    def stream(self, request: ModelRequest) -> AsyncIterator[StreamEvent]:
        return self._wrappers().stream(request)

    async def count_tokens(self, request: ModelRequest) -> int:
        return await self._wrappers().count_tokens(request)

    def _wrappers(self) -> Fallback:
        """The tier as the stream wrappers compose it (see the module's docstring)."""
        return Fallback(
            [self._candidate(c) for c in self.plan.candidates],
            self.trace,
            label=self.label,
            deadline=self.deadline,
        )

    def _candidate(self, c: Candidate) -> Recorded:
        spec, tier, deadline = c.spec, self.plan.spec, self.deadline
        stats = CallStats()
        guarded = AttemptTimeout(  # the attempt's timeouts and its circuit, one generator
            c.pinned,
            tier.attempt_timeout_s,
            provider=spec.provider,
            model=spec.model_id,
            deadline=deadline,
            circuit=self.breakers.get(c.breaker_key),
        )
        retried = Retry(guarded, tier.retry, sleep=self.sleep, stats=stats, deadline=deadline)
        return Recorded(retried, spec, self.trace, stats)
