"""Fallback: the tier's model, then each fallback in order, until one answers.

A candidate that fails is relabelled ``fallback`` in the trace and the next one is asked.
Client faults (the upstream says the request itself is bad: 400/413/422) are returned at once:
another model would refuse it too. When every candidate failed, a single candidate's error is
raised as is (its status and retry-after reach the client); several give ``AllProvidersFailed``.
A stream falls back only before its first content event.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

from gateway.providers.base import EventSource
from gateway.resilience.streams import Handoff, Opened
from gateway.resilience.timeout import Deadline
from gateway.resilience.trace import Trace, is_client_fault
from gateway.types import ModelRequest, StreamEvent
from kernel.errors import AllProvidersFailed, ProviderError, ProviderTimeout, StreamInterrupted


def combined_error(label: str, errors: list[ProviderError]) -> ProviderError:
    if len(errors) == 1:
        return errors[0]
    names = ", ".join(f"{e.provider}/{e.model}: {e.code}" if e.model else e.code for e in errors)
    return AllProvidersFailed(f"{label}: every model failed ({names})", errors=errors)


def out_of_time(deadline: Deadline | None, label: str, errors: list[ProviderError]) -> bool:
    """Whether the tier's total has run out (then it is the last of ``errors``)."""
    if deadline is None or deadline.remaining() > 0:
        return False
    errors.append(ProviderTimeout(f"{label}: the tier's total {deadline.seconds:g}s ran out"))
    return True


class Fallback:
    __slots__ = ("candidates", "deadline", "label", "name", "trace")

    def __init__(
        self,
        candidates: Sequence[EventSource],
        trace: Trace,
        *,
        label: str,
        deadline: Deadline | None = None,
    ) -> None:
        if not candidates:
            raise ValueError("a fallback chain needs at least one candidate")
        self.candidates = candidates
        self.trace = trace
        self.label = label
        self.deadline = deadline
        self.name = f"fallback({', '.join(c.name for c in candidates)})"

    def stream(self, request: ModelRequest) -> AsyncIterator[StreamEvent]:
        return Handoff(lambda: self._choose(request))

    async def _choose(self, request: ModelRequest) -> Opened:
        """The first candidate whose stream gives an event: that event and the rest of it."""
        errors: list[ProviderError] = []
        last = len(self.candidates) - 1
        for i, candidate in enumerate(self.candidates):
            if i and out_of_time(self.deadline, self.label, errors):
                break
            it = candidate.stream(request).__aiter__()
            try:
                first = await it.__anext__()
            except StopAsyncIteration:
                errors.append(StreamInterrupted(f"{candidate.name}: empty stream"))
            except ProviderError as exc:
                if is_client_fault(exc):
                    raise
                errors.append(exc)
            else:
                return [first], it
            if i < last:
                self.trace.relabel_last("fallback")
        raise combined_error(self.label, errors)

    async def count_tokens(self, request: ModelRequest) -> int:
        errors: list[ProviderError] = []
        for candidate in self.candidates:
            try:
                return await candidate.count_tokens(request)
            except ProviderError as exc:
                if is_client_fault(exc):
                    raise
                errors.append(exc)
        raise combined_error(self.label, errors)
