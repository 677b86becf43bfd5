"""What one emulator holds: scripted replies, faults, prompt caches and the requests it received."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from testkit.emulator.answers import Reply, Responder, default_answer
from testkit.emulator.faults import FaultQueue
from testkit.emulator.openai_cache import AutoPrefixCache
from testkit.emulator.prompt_cache import PromptCache
from testkit.emulator.replies import forced_tool

DEFAULT_MODELS = (
    "claude-haiku-4-5",
    "claude-sonnet-4-6",
    "claude-opus-4-8",
    "gpt-5.5",
)


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the emulator received it."""

    method: str
    path: str
    headers: dict[str, str]
    json: dict[str, Any] | None
    at: float = field(default=0.0)

    @property
    def model(self) -> str | None:
        return None if self.json is None else self.json.get("model")


class EmulatorState:
    def __init__(
        self,
        *,
        clock: Callable[[], float] | None = None,
        latency_s: float = 0.0,
        delta_interval_s: float = 0.0,
        min_cacheable: dict[str, int] | None = None,
        models: tuple[str, ...] = DEFAULT_MODELS,
        record: bool = True,
    ) -> None:
        self.clock: Callable[[], float] = clock or time.monotonic
        self.latency_s = latency_s
        # A paced stream (benchmarks): this long before each content delta, like a model's
        # tokens arriving over time.
        self.delta_interval_s = delta_interval_s
        self.faults = FaultQueue()
        self.cache = PromptCache(self.clock, min_cacheable)
        self.openai_cache = AutoPrefixCache(self.clock)
        self.models = models
        self.record = record
        self._responders: dict[str, Responder] = {}
        self._requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._ids = itertools.count(1)

    # Scripted answers -------------------------------------------------------------------------
    def set_reply(self, model_prefix: str, text: str) -> None:
        self.set_responder(model_prefix, lambda _body: text)

    def set_responder(self, model_prefix: str, fn: Responder) -> None:
        with self._lock:
            self._responders[model_prefix] = fn

    def clear_responders(self) -> None:
        with self._lock:
            self._responders.clear()

    def reply_for(self, body: dict[str, Any]) -> Reply:
        model = str(body.get("model", ""))
        with self._lock:
            matches = [p for p in self._responders if model.startswith(p)]
            fn = self._responders[max(matches, key=len)] if matches else None
        if fn is not None:
            return fn(body)
        tool = forced_tool(body)
        if tool is not None:
            return [{"type": "tool_use", **tool}]
        return default_answer(body)

    # Requests ---------------------------------------------------------------------------------
    def remember(self, request: RecordedRequest) -> None:
        if self.record:
            with self._lock:
                self._requests.append(request)

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def next_id(self) -> int:
        return next(self._ids)

    def reset(self) -> None:
        """Forget requests, faults, scripted replies and cache entries."""
        with self._lock:
            self._requests.clear()
            self._responders.clear()
        self.faults.clear()
        self.cache.clear()
        self.openai_cache.clear()
