"""Chat-completion stream chunks (as JSON objects) -> the canonical Anthropic-shaped events.

One ``ChunkEvents`` per stream: ``feed`` each chunk, ``finish`` at the end. Used by both paths
of the OpenAI provider: the SDK path feeds ``chunk.to_dict()``, the pass-through path the JSON
it read from the wire. message_start on the first chunk, one content block per text run or
tool call, then message_delta (stop reason, usage) and message_stop.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from gateway.providers.openai_translate import FINISH_TO_STOP, usage_from_openai
from gateway.stream_events import (
    block_delta,
    block_start,
    block_stop,
    message_delta,
    message_start,
    message_stop,
)
from gateway.types import StreamEvent, Usage


class ChunkEvents:
    def __init__(self, model: str) -> None:
        self.model = model
        self.started = False
        self.finish: str | None = None
        self.usage = Usage()
        self._block: tuple[str, int] | None = None  # ("text", 0) or ("tool", tool index)
        self._index = -1

    def _open(self, block: tuple[str, int], content: dict[str, Any]) -> Iterator[StreamEvent]:
        if self._block is not None:
            yield block_stop(self._index)
        self._index, self._block = self._index + 1, block
        yield block_start(self._index, content)

    def feed(self, chunk: dict[str, Any]) -> Iterator[StreamEvent]:
        if not self.started:
            self.started = True
            yield message_start(str(chunk.get("id", "")), str(chunk.get("model") or self.model))
        if chunk.get("usage") is not None:
            self.usage = usage_from_openai(chunk["usage"])
        for choice in (chunk.get("choices") or [])[:1]:
            delta = choice.get("delta") or {}
            text = delta.get("content")
            if text:
                if self._block != ("text", 0):
                    yield from self._open(("text", 0), {"type": "text", "text": ""})
                yield block_delta(self._index, {"type": "text_delta", "text": text})
            for call in delta.get("tool_calls") or []:
                function = call.get("function") or {}
                if self._block != ("tool", call.get("index", 0)):
                    block: dict[str, Any] = {
                        "type": "tool_use",
                        "id": call.get("id") or "",
                        "name": function.get("name") or "",
                        "input": {},
                    }
                    yield from self._open(("tool", call.get("index", 0)), block)
                if function.get("arguments"):
                    yield block_delta(
                        self._index,
                        {"type": "input_json_delta", "partial_json": function["arguments"]},
                    )
            if choice.get("finish_reason"):
                self.finish = choice["finish_reason"]

    def finish_events(self) -> Iterator[StreamEvent]:
        """The closing events (call once the stream ended with a finish reason)."""
        assert self.finish is not None
        if self._block is not None:
            yield block_stop(self._index)
        yield message_delta(FINISH_TO_STOP.get(self.finish, self.finish), None, self.usage)
        yield message_stop()
