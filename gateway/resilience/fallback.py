"""Fallback: the tier's model, then each fallback in order, until one answers.

A candidate that fails is relabelled ``fallback`` in the trace and the next one is asked.
Client faults (the upstream says the request itself is bad: 400/413/422) are returned at once:
another model would refuse it too. When every candidate failed, a single candidate's error is
raised as is (its status and retry-after reach the client); several give ``AllProvidersFailed``.
A stream falls back only before its first content event.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

from gateway.providers.base import Provider
from gateway.resilience.streams import close_quietly
from gateway.resilience.timeout import Deadline
from gateway.resilience.trace import Trace, is_client_fault
from gateway.types import ModelRequest, ModelResponse, StreamEvent
from kernel.errors import AllProvidersFailed, ProviderError, ProviderTimeout, StreamInterrupted


def combined_error(label: str, errors: list[ProviderError]) -> ProviderError:
    if len(errors) == 1:
        return errors[0]
    names = ", ".join(f"{e.provider}/{e.model}: {e.code}" if e.model else e.code for e in errors)
    return AllProvidersFailed(f"{label}: every model failed ({names})", errors=errors)


class Fallback:
    __slots__ = ("candidates", "deadline", "label", "name", "trace")

    def __init__(
        self,
        candidates: Sequence[Provider],
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

    def _out_of_time(self, errors: list[ProviderError]) -> bool:
        if self.deadline is None or self.deadline.remaining() > 0:
            return False
        errors.append(
            ProviderTimeout(f"{self.label}: the tier's total {self.deadline.seconds:g}s ran out")
        )
        return True

    async def complete(self, request: ModelRequest) -> ModelResponse:
        errors: list[ProviderError] = []
        last = len(self.candidates) - 1
        for i, candidate in enumerate(self.candidates):
            if i and self._out_of_time(errors):
                break
            try:
                return await candidate.complete(request)
            except ProviderError as exc:
                if is_client_fault(exc):
                    raise
                errors.append(exc)
                if i < last:
                    self.trace.relabel_last("fallback")
        raise combined_error(self.label, errors)

    async def stream(self, request: ModelRequest) -> AsyncIterator[StreamEvent]:
        errors: list[ProviderError] = []
        last = len(self.candidates) - 1
        for i, candidate in enumerate(self.candidates):
            if i and self._out_of_time(errors):
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
                try:
                    yield first
                    async for event in it:
                        yield event
                finally:
                    await close_quietly(it)
                return
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
