"""Turning Anthropic-shaped stream events into a complete ``ModelResponse``, and back."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from gateway.types import ModelResponse, StreamEvent
from gateway.usage import CumulativeUsage
from kernel.errors import StreamInterrupted


class StreamAssembler:
    """Builds the complete message a stream describes (text, tool use, thinking blocks)."""

    def __init__(self) -> None:
        self.message: dict[str, Any] = {}
        self.blocks: dict[int, dict[str, Any]] = {}
        self._json: dict[int, list[str]] = {}
        self.usage = CumulativeUsage()
        self.stop_reason: str | None = None
        self.stop_sequence: str | None = None
        self.confidence: float | None = None
        self.stopped = False

    def feed(self, event: StreamEvent) -> None:
        self.usage.observe(event)
        data = event.data
        if event.type == "message_start":
            message = data.get("message")
            self.message = dict(message) if isinstance(message, Mapping) else {}
        elif event.type == "content_block_start":
            block = data.get("content_block")
            self.blocks[int(data.get("index", len(self.blocks)))] = (
                dict(block) if isinstance(block, Mapping) else {}
            )
        elif event.type == "content_block_delta":
            self._delta(int(data.get("index", 0)), data.get("delta") or {})
        elif event.type == "message_delta":
            delta = data.get("delta") or {}
            self.stop_reason = delta.get("stop_reason", self.stop_reason)
            self.stop_sequence = delta.get("stop_sequence", self.stop_sequence)
            confidence = data.get("confidence")
            if isinstance(confidence, int | float) and not isinstance(confidence, bool):
                self.confidence = float(confidence)
        elif event.type == "message_stop":
            self.stopped = True

    def _delta(self, index: int, delta: Mapping[str, Any]) -> None:
        block = self.blocks.setdefault(index, {"type": "text", "text": ""})
        kind = delta.get("type")
        if kind == "text_delta":
            block["text"] = block.get("text", "") + str(delta.get("text", ""))
        elif kind == "input_json_delta":
            self._json.setdefault(index, []).append(str(delta.get("partial_json", "")))
        elif kind == "thinking_delta":
            block["thinking"] = block.get("thinking", "") + str(delta.get("thinking", ""))
        elif kind == "signature_delta":
            block["signature"] = str(delta.get("signature", ""))
        elif kind == "citations_delta":
            block.setdefault("citations", []).append(delta.get("citation"))

    def response(self, *, provider: str, model_alias: str, model_id: str) -> ModelResponse:
        if not self.stopped:
            raise StreamInterrupted(
                "the stream ended without message_stop", provider=provider, model=model_id
            )
        for index, parts in self._json.items():
            text = "".join(parts)
            try:
                self.blocks[index]["input"] = json.loads(text) if text else {}
            except json.JSONDecodeError:
                raise StreamInterrupted(
                    f"tool input of block {index} is not valid JSON",
                    provider=provider,
                    model=model_id,
                ) from None
        return ModelResponse(
            id=str(self.message.get("id", "")),
            provider=provider,
            model_alias=model_alias,
            model_id=str(self.message.get("model") or model_id),
            content=[self.blocks[i] for i in sorted(self.blocks)],
            stop_reason=self.stop_reason,
            stop_sequence=self.stop_sequence,
            usage=self.usage.usage,
            confidence=self.confidence,
        )
