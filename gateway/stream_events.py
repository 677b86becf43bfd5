"""Building Anthropic-shaped stream events: every provider that does not speak Anthropic's
stream itself (OpenAI, the local model, a complete answer replayed as a stream) makes its
events here, so they all have the same shape the gateway and its callers read.

(The wire emulator in testkit writes its own events on purpose: a test double that shares the
code under test cannot catch its mistakes.)
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from gateway.types import ModelResponse, StreamEvent, Usage
from gateway.usage import usage_to_anthropic


def message_start(message_id: str, model: str, usage: Usage | None = None) -> StreamEvent:
    return StreamEvent(
        type="message_start",
        data={
            "type": "message_start",
            "message": {
                "id": message_id,
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": usage_to_anthropic(usage or Usage()),
            },
        },
    )


def block_start(index: int, block: dict[str, Any]) -> StreamEvent:
    return StreamEvent(
        type="content_block_start",
        data={"type": "content_block_start", "index": index, "content_block": block},
    )


def block_delta(index: int, delta: dict[str, Any]) -> StreamEvent:
    return StreamEvent(
        type="content_block_delta",
        data={"type": "content_block_delta", "index": index, "delta": delta},
    )


def text_delta(index: int, text: str) -> StreamEvent:
    return block_delta(index, {"type": "text_delta", "text": text})


def block_stop(index: int) -> StreamEvent:
    return StreamEvent(
        type="content_block_stop", data={"type": "content_block_stop", "index": index}
    )


def message_delta(
    stop_reason: str | None,
    stop_sequence: str | None,
    usage: Usage,
    confidence: float | None = None,
) -> StreamEvent:
    data: dict[str, Any] = {
        "type": "message_delta",
        "delta": {"stop_reason": stop_reason, "stop_sequence": stop_sequence},
        "usage": usage_to_anthropic(usage),
    }
    if confidence is not None:  # loregate's own field; SDKs ignore what they do not know
        data["confidence"] = confidence
    return StreamEvent(type="message_delta", data=data)


def message_stop() -> StreamEvent:
    return StreamEvent(type="message_stop", data={"type": "message_stop"})


def response_events(response: ModelResponse) -> Iterable[StreamEvent]:
    """The event sequence that streams a complete ``response`` (one delta per block)."""
    start_usage = response.usage.model_copy(
        update={"output_tokens": min(1, response.usage.output_tokens)}
    )
    yield message_start(response.id, response.model_id, start_usage)
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
        yield block_start(index, start)
        yield block_delta(index, delta)
        yield block_stop(index)
    yield message_delta(
        response.stop_reason, response.stop_sequence, response.usage, response.confidence
    )
    yield message_stop()
