"""A provider that plays a script of replies and faults (``testkit.faults``), in process.

    provider = ScriptedProvider("anthropic")
    provider.push(Fault.status(429, retry_after=2), Reply("hello"))       # any model
    provider.push(Reply("weak"), model="claude-haiku-4-5-20251001")       # one model only
    clock = ManualClock(follows_real_time=True)
    catalogue = RouteCatalogue(config, {"anthropic": provider}, clock=clock)
    gw = Gateway(catalogue, clock=clock, sleep=clock.sleep)

Each call takes the next step of its model's script, else of the shared script, else the
default answer. Faults raise the errors real providers raise (kernel/errors.py); ``hang``
waits until the caller's timeout cancels it.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from gateway.stream_events import response_events
from gateway.types import ModelRequest, ModelResponse, StreamEvent, Usage
from kernel.errors import (
    ProviderConnectionError,
    ProviderError,
    ProviderStatusError,
    StreamInterrupted,
)
from testkit.faults import Fault

_ids = itertools.count(1)
# A broken stream's events before its error when the fault does not say: message_start,
# content_block_start and one text delta.
DEFAULT_EVENTS_BEFORE_ERROR = 3


@dataclass
class Reply:
    text: str = "ok"
    usage: Usage = field(default_factory=lambda: Usage(input_tokens=10, output_tokens=5))
    stop_reason: str = "end_turn"
    content: list[dict[str, Any]] | None = None  # replaces ``text`` (tool_use blocks, ...)
    delay_s: float = 0.0  # slept with the provider's (injected) sleep before answering
    confidence: float | None = None  # as a model that states one (the extractive answerer)


Step = Reply | Fault


class ScriptedProvider:
    """A provider that plays a script (see the module docstring)."""

    def __init__(
        self,
        name: str = "scripted",
        *steps: Step,
        default: Reply | None = None,
        sleep: Any = None,
        keep_calls: bool = True,
    ) -> None:
        self.name = name
        self.default = default or Reply()
        self.sleep = sleep or asyncio.sleep
        self._shared: deque[Step] = deque(steps)
        self._by_model: dict[str, deque[Step]] = {}
        self.calls: list[ModelRequest] = []  # every request received (unless keep_calls=False)
        self.keep_calls = keep_calls
        self.closed = False

    def push(self, *steps: Step, model: str | None = None) -> ScriptedProvider:
        if model is None:
            self._shared.extend(steps)
        else:
            self._by_model.setdefault(model, deque()).extend(steps)
        return self

    def calls_for(self, model: str) -> list[ModelRequest]:
        return [c for c in self.calls if c.model == model]

    def _next(self, request: ModelRequest) -> Step:
        if self.keep_calls:
            self.calls.append(request)
        own = self._by_model.get(request.model)
        if own:
            return own.popleft()
        if self._shared:
            return self._shared.popleft()
        return self.default

    def _response(self, answer: Reply, request: ModelRequest) -> ModelResponse:
        content = answer.content or [{"type": "text", "text": answer.text}]
        return ModelResponse(
            id=f"msg_scripted_{next(_ids)}",
            provider=self.name,
            model_alias="",
            model_id=request.model,
            content=json.loads(json.dumps(content)),
            stop_reason=answer.stop_reason,
            usage=answer.usage.model_copy(),
            confidence=answer.confidence,
        )

    def _error(self, fault: Fault, model: str) -> ProviderError:
        if fault.kind == "status":
            return ProviderStatusError(
                fault.message or f"scripted HTTP {fault.status_code}",
                upstream_status=fault.status_code,
                retry_after=fault.retry_after,
                provider=self.name,
                model=model,
            )
        if fault.kind == "reset":
            return ProviderConnectionError(
                "connection reset by peer", provider=self.name, model=model
            )
        return StreamInterrupted(
            fault.message or "error event after HTTP 200", provider=self.name, model=model
        )

    async def _play(self, request: ModelRequest) -> Reply | Fault:
        step = self._next(request)
        if isinstance(step, Reply):
            if step.delay_s:
                await self.sleep(step.delay_s)
            return step
        if step.kind == "hang":
            await asyncio.Event().wait()
        if step.kind == "slow":
            await self.sleep(step.seconds)
            return self.default
        if step.kind in ("status", "reset"):
            raise self._error(step, request.model)
        return step

    async def complete(self, request: ModelRequest) -> ModelResponse:
        step = await self._play(request)
        if isinstance(step, Fault):  # error_after_start / empty: a broken answer
            raise self._error(step, request.model)
        return self._response(step, request)

    async def stream(self, request: ModelRequest) -> AsyncIterator[StreamEvent]:
        step = await self._play(request)
        if isinstance(step, Fault):
            if step.kind == "empty":
                return
            first = DEFAULT_EVENTS_BEFORE_ERROR if step.after_events is None else step.after_events
            for i, event in enumerate(response_events(self._response(self.default, request))):
                if i >= first:
                    break
                yield event
            raise self._error(step, request.model)
        for event in response_events(self._response(step, request)):
            yield event

    async def count_tokens(self, request: ModelRequest) -> int:
        self.calls.append(request)
        text = json.dumps(request.messages) + json.dumps(request.system or "")
        return max(1, len(text) // 4)

    async def aclose(self) -> None:
        self.closed = True
