"""The innermost and outermost layers of one model candidate.

``Pinned`` puts the model's pinned id on the request and its alias on the answer.
``Recorded`` measures the candidate (latency, time to first token, usage of the last
cumulative stream values, retries) and appends its ``AttemptRecord`` to the request's trace.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from gateway.config import ModelSpec
from gateway.providers.base import EventSource, Provider
from gateway.resilience.streams import close_quietly
from gateway.resilience.trace import CallStats, Trace
from gateway.types import ModelRequest, ModelResponse, StreamEvent
from gateway.usage import CumulativeUsage
from kernel.errors import StreamInterrupted


class Pinned:
    """A provider bound to one model: ``request.model`` becomes the pinned model id."""

    __slots__ = ("name", "provider", "spec")

    def __init__(self, provider: Provider, spec: ModelSpec) -> None:
        self.provider = provider
        self.spec = spec
        self.name = f"{spec.provider}/{spec.alias}"

    def _pin(self, request: ModelRequest) -> ModelRequest:
        """The request for this model: its pinned id, and never more output than it allows
        (a request sized for the route's first model may reach a smaller fallback)."""
        limit = self.spec.max_output_tokens
        if request.model == self.spec.model_id and request.max_tokens <= limit:
            return request
        return request.pinned(self.spec.model_id, min(request.max_tokens, limit))

    async def complete(self, request: ModelRequest) -> ModelResponse:
        response = await self.provider.complete(self._pin(request))
        response.model_alias = self.spec.alias
        return response

    def stream(self, request: ModelRequest) -> AsyncIterator[StreamEvent]:
        return self.provider.stream(self._pin(request))

    async def count_tokens(self, request: ModelRequest) -> int:
        return await self.provider.count_tokens(self._pin(request))


class Recorded:
    """Appends one ``AttemptRecord`` per call of this candidate to the trace."""

    __slots__ = ("inner", "name", "spec", "stats", "trace")

    def __init__(self, inner: EventSource, spec: ModelSpec, trace: Trace, stats: CallStats) -> None:
        self.inner = inner
        self.spec = spec
        self.trace = trace
        self.stats = stats
        self.name = inner.name

    async def stream(self, request: ModelRequest) -> AsyncIterator[StreamEvent]:
        clock = self.trace.clock
        started = self.trace.inflight = clock.monotonic()
        usage = CumulativeUsage()
        first: float | None = None
        stopped = False
        it = self.inner.stream(request).__aiter__()
        try:
            async for event in it:
                usage.observe(event)
                if first is None and event.type == "content_block_delta":
                    first = clock.monotonic()
                elif event.type == "message_stop":
                    stopped = True
                yield event
            if not stopped:
                raise StreamInterrupted(
                    "the stream ended without message_stop",
                    provider=self.spec.provider,
                    model=self.spec.model_id,
                )
        except BaseException as exc:
            await close_quietly(it)
            self.trace.record(
                self.spec,
                usage=usage.usage,
                started=started,
                ttft=first,
                error=exc,
                retries=self.stats.retries,
            )
            raise
        self.trace.record(
            self.spec,
            usage=usage.usage,
            started=started,
            ttft=first,
            error=None,
            retries=self.stats.retries,
        )

    async def count_tokens(self, request: ModelRequest) -> int:
        return await self.inner.count_tokens(request)
