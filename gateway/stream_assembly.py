"""Turning Anthropic-shaped stream events into usage and a complete ``ModelResponse``.

Usage in a stream is cumulative: ``message_start`` carries the input side, every
``message_delta`` the running totals. The last value of each field wins; nothing is added up.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from gateway.types import ModelResponse, StreamEvent, Usage
from kernel.errors import StreamInterrupted

_FIELDS = (
    "input_tokens",
    "output_tokens",
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
)


def usage_fields(raw: Mapping[str, Any] | None) -> dict[str, int]:
    """The usage fields present in an Anthropic ``usage`` object (absent/None ones left out)."""
    if not raw:
        return {}
    out: dict[str, int] = {}
    for key in _FIELDS:
        value = raw.get(key)
        if isinstance(value, int):
            out[key] = value
    split = raw.get("cache_creation")
    if isinstance(split, Mapping):
        five = split.get("ephemeral_5m_input_tokens")
        hour = split.get("ephemeral_1h_input_tokens")
        if isinstance(five, int):
            out["cache_creation_5m_input_tokens"] = five
        if isinstance(hour, int):
            out["cache_creation_1h_input_tokens"] = hour
    return out


def usage_from_anthropic(raw: Mapping[str, Any] | None) -> Usage:
    return Usage(**usage_fields(raw))


def usage_to_anthropic(usage: Usage) -> dict[str, Any]:
    """The Anthropic wire form of ``usage`` (with the 5m/1h split object)."""
    return {
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "cache_creation_input_tokens": usage.cache_creation_input_tokens,
        "cache_read_input_tokens": usage.cache_read_input_tokens,
        "cache_creation": {
            "ephemeral_5m_input_tokens": usage.cache_creation_5m_input_tokens,
            "ephemeral_1h_input_tokens": usage.cache_creation_1h_input_tokens,
        },
    }


class UsageTracker:
    """Keeps the last cumulative value of each usage field seen in a stream."""

    __slots__ = ("fields",)

    def __init__(self) -> None:
        self.fields: dict[str, int] = {}

    def observe(self, event: StreamEvent) -> None:
        if event.type == "message_start":
            message = event.data.get("message")
            if isinstance(message, Mapping):
                self.fields.update(usage_fields(message.get("usage")))
        elif event.type == "message_delta":
            self.fields.update(usage_fields(event.data.get("usage")))

    @property
    def usage(self) -> Usage:
        return Usage(**self.fields)


class StreamAssembler:
    """Builds the complete message a stream describes (text, tool use, thinking blocks)."""

    def __init__(self) -> None:
        self.message: dict[str, Any] = {}
        self.blocks: dict[int, dict[str, Any]] = {}
        self._json: dict[int, list[str]] = {}
        self.usage = UsageTracker()
        self.stop_reason: str | None = None
        self.stop_sequence: str | None = None
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
        )


def response_events(response: ModelResponse) -> Iterable[StreamEvent]:
    """The Anthropic event sequence that streams ``response`` (for providers without streams)."""
    usage = usage_to_anthropic(response.usage)
    start_usage = {**usage, "output_tokens": min(1, response.usage.output_tokens)}
    yield StreamEvent(
        type="message_start",
        data={
            "type": "message_start",
            "message": {
                "id": response.id,
                "type": "message",
                "role": "assistant",
                "model": response.model_id,
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": start_usage,
            },
        },
    )
    for index, block in enumerate(response.content):
        kind = block.get("type")
        if kind == "tool_use":
            start = {**block, "input": {}}
            delta = {"type": "input_json_delta", "partial_json": json.dumps(block.get("input", {}))}
        elif kind == "thinking":
            start = {**block, "thinking": ""}
            delta = {"type": "thinking_delta", "thinking": block.get("thinking", "")}
        else:
            start = {**block, "text": ""}
            delta = {"type": "text_delta", "text": block.get("text", "")}
        yield StreamEvent(
            type="content_block_start",
            data={"type": "content_block_start", "index": index, "content_block": start},
        )
        yield StreamEvent(
            type="content_block_delta",
            data={"type": "content_block_delta", "index": index, "delta": delta},
        )
        yield StreamEvent(
            type="content_block_stop", data={"type": "content_block_stop", "index": index}
        )
    yield StreamEvent(
        type="message_delta",
        data={
            "type": "message_delta",
            "delta": {"stop_reason": response.stop_reason, "stop_sequence": response.stop_sequence},
            "usage": usage,
        },
    )
    yield StreamEvent(type="message_stop", data={"type": "message_stop"})
