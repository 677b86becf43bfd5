"""Escalation on the answer: a cheap tier answers first; a weak answer goes to the next tier.

After each tier's answer the caller's judge (sync or async) gives a ``Verdict``; the tier's
``escalate_on`` says which signals move the request up: ``weak_verdict`` (the judge said no),
``refusal`` (stop_reason "refusal") and ``max_tokens`` (the answer was cut off). A tier that
fails outright (every fallback failed, and not the client's fault) also escalates. Each step
is recorded in the trace with its reason and cost. When the last tier answers weakly, its answer
is returned and the weak verdict is kept: the caller decides how to degrade.

Streams: without a judge (the Anthropic- and OpenAI-compatible endpoints) a stream moves to
the next tier only when a tier fails before its first event; after that the bytes are the
caller's and a failure is raised. With a judge (the answer service) each tier's stream is
assembled as it passes through and judged when it ends; a weak answer (per the tier's
``escalate_on``) is followed by a ``retract`` event (``{"tier", "reason"}``: the caller discards
what it showed) and the next tier's stream. A tier that breaks mid-stream is retracted the same
way and the next tier answers; on the last tier the failure is raised. ``retract`` is loregate's
own event: it is never sent to a vendor-compatible endpoint, which passes no judge.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable, Mapping, Sequence

from gateway.config import EscalationSignal
from gateway.providers.base import Provider
from gateway.resilience.fallback import combined_error
from gateway.resilience.streams import Handoff, Opened, close_quietly
from gateway.resilience.trace import Trace, is_client_fault
from gateway.stream_assembly import StreamAssembler
from gateway.types import Judge, ModelRequest, ModelResponse, StreamEvent, Verdict
from kernel.errors import AllProvidersFailed, ProviderError, StreamInterrupted


async def run_judge(judge: Judge, response: ModelResponse) -> Verdict:
    verdict = judge(response)
    if inspect.isawaitable(verdict):
        verdict = await verdict
    if not isinstance(verdict, Verdict):
        raise TypeError(f"the judge returned {type(verdict).__name__}, not a Verdict")
    return verdict


def low_confidence(response: ModelResponse, floor: float | None) -> str | None:
    """Why an answer that states its confidence is below its model's floor, else ``None``."""
    if floor is None or response.confidence is None or response.confidence >= floor:
        return None
    return f"low confidence: {response.confidence:.2f} < {floor:.2f}"


def escalation_reason(
    signals: Sequence[EscalationSignal],
    response: ModelResponse,
    verdict: Verdict | None,
    floor: float | None = None,
) -> str | None:
    if "low_confidence" in signals:
        unsure = low_confidence(response, floor)
        if unsure is not None:
            return unsure
    if "weak_verdict" in signals and verdict is not None and not verdict.ok:
        return f"weak answer: {verdict.reason}" if verdict.reason else "weak answer"
    if "refusal" in signals and response.stop_reason == "refusal":
        return "refusal"
    if "max_tokens" in signals and response.stop_reason == "max_tokens":
        return "answer cut off at max_tokens"
    return None


def retract_event(tier: int, reason: str) -> StreamEvent:
    """The event that tells a judged stream's caller to discard what tier ``tier`` wrote."""
    return StreamEvent(type="retract", data={"type": "retract", "tier": tier, "reason": reason})


class Escalation:
    """Runs the tiers of a route in order; ``build(i)`` composes tier ``i`` when it is needed."""

    __slots__ = ("build", "floors", "judge", "name", "signals", "trace")

    def __init__(
        self,
        build: Callable[[int], Provider],
        signals: Sequence[Sequence[EscalationSignal]],
        trace: Trace,
        *,
        judge: Judge | None = None,
        name: str = "route",
        floors: Mapping[str, float] | None = None,
    ) -> None:
        self.build = build
        self.signals = signals
        self.trace = trace
        self.judge = judge
        self.name = name
        self.floors = floors or {}  # model alias -> min_confidence (models that state one)

    def _verdict(self, index: int, response: ModelResponse, verdict: Verdict | None) -> str | None:
        """Why tier ``index``'s answer is weak (``None``: keep it); an answer under its
        model's confidence floor is weak for the caller too (``final_verdict``)."""
        floor = self.floors.get(response.model_alias)
        weak = escalation_reason(self.signals[index], response, verdict, floor)
        unsure = (
            low_confidence(response, floor) if "low_confidence" in self.signals[index] else None
        )
        self.trace.final_verdict = Verdict(False, unsure) if unsure else verdict
        return weak

    def _failed(self, index: int, exc: ProviderError, errors: list[ProviderError]) -> None:
        """Go on to the next tier after a failed one (recording why), or raise."""
        if is_client_fault(exc):
            raise exc
        errors.extend(exc.errors if isinstance(exc, AllProvidersFailed) else [exc])
        if index == len(self.signals) - 1:
            if len(errors) == 1:
                raise exc
            raise combined_error(f"route {self.name!r}", errors) from exc
        self.trace.relabel_last("escalated", f"tier failed: {exc.code}")

    async def complete(self, request: ModelRequest) -> ModelResponse:
        last = len(self.signals) - 1
        errors: list[ProviderError] = []
        for index in range(len(self.signals)):
            self.trace.tier = index
            try:
                response = await self.build(index).complete(request)
            except ProviderError as exc:
                self._failed(index, exc, errors)
                continue
            verdict = None if self.judge is None else await run_judge(self.judge, response)
            reason = self._verdict(index, response, verdict)
            if reason is not None and index < last:
                self.trace.relabel_last("escalated", reason)
                continue
            return response
        raise AssertionError("unreachable: the last tier returns or raises")

    def stream(self, request: ModelRequest) -> AsyncIterator[StreamEvent]:
        if self.judge is None:  # the first tier that opens is the answer: handed on as it is
            return Handoff(lambda: self._first_opened(request))
        return self._judged(request, self.judge)

    async def _open(
        self, index: int, request: ModelRequest, errors: list[ProviderError]
    ) -> Opened | None:
        """Tier ``index``'s first event and the rest of its stream; ``None`` if it failed
        (and a later tier is to answer: ``_failed`` raises otherwise)."""
        self.trace.tier = index
        it = self.build(index).stream(request).__aiter__()
        try:
            first = await it.__anext__()
        except StopAsyncIteration:
            self._failed(index, StreamInterrupted("the stream ended before any event"), errors)
            return None
        except ProviderError as exc:
            self._failed(index, exc, errors)
            return None
        return [first], it

    async def _first_opened(self, request: ModelRequest) -> Opened:
        errors: list[ProviderError] = []
        for index in range(len(self.signals)):
            opened = await self._open(index, request, errors)
            if opened is not None:
                return opened
        raise AssertionError("unreachable: the last tier opens or raises")

    async def _judged(self, request: ModelRequest, judge: Judge) -> AsyncIterator[StreamEvent]:
        last = len(self.signals) - 1
        errors: list[ProviderError] = []
        for index in range(len(self.signals)):
            opened = await self._open(index, request, errors)
            if opened is None:
                continue
            (first,), it = opened
            assembler = StreamAssembler()
            try:
                assembler.feed(first)
                yield first
                async for event in it:
                    assembler.feed(event)
                    yield event
            except ProviderError as exc:
                if index == last or is_client_fault(exc):
                    raise
                reason = f"stream interrupted: {exc.code}"
                self.trace.relabel_last("escalated", reason)
                yield retract_event(index, reason)
                continue
            finally:
                await close_quietly(it)
            done = self.trace.attempts[-1]
            response = assembler.response(
                provider=done.provider, model_alias=done.model_alias, model_id=done.model_id
            )
            verdict = await run_judge(judge, response)
            weak = self._verdict(index, response, verdict)
            if weak is None or index == last:
                return
            self.trace.relabel_last("escalated", weak)
            yield retract_event(index, weak)

    async def count_tokens(self, request: ModelRequest) -> int:
        return await self.build(0).count_tokens(request)
