"""Inbound OpenAI chat completions to the canonical request, and the answer back.

Request (OpenAI -> canonical): ``system``/``developer`` messages -> ``system``; text and
``image_url`` parts -> text and image blocks; assistant ``tool_calls`` -> ``tool_use`` blocks;
``tool`` messages -> ``tool_result`` blocks in a user turn (consecutive same-role turns merged);
function tools -> tools with ``input_schema``; ``tool_choice`` auto/none/required/named ->
auto/none/any/tool; ``stop`` -> ``stop_sequences``; ``max_completion_tokens``/``max_tokens`` ->
``max_tokens``; ``user`` -> ``metadata.user_id``. ``n`` > 1 is refused.

Response (canonical -> OpenAI): text blocks -> ``content``, ``tool_use`` -> ``tool_calls``;
end_turn/stop_sequence/max_tokens/tool_use/refusal -> stop/stop/length/tool_calls/
content_filter; ``prompt_tokens`` counts every input token (cache reads and writes included)
with cache reads in ``prompt_tokens_details.cached_tokens``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

from gateway.http.common import model_request
from gateway.types import ModelRequest, ModelResponse, StreamEvent, Usage
from kernel.errors import InvalidRequest

STOP_TO_FINISH = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
    "pause_turn": "stop",
}


def _text_of(content: Any, where: str) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    raise InvalidRequest(f"{where}.content: must be a string or a list of parts")


def _image(url: str) -> dict[str, Any]:
    if url.startswith("data:") and ";base64," in url:
        head, data = url[5:].split(";base64,", 1)
        return {"type": "image", "source": {"type": "base64", "media_type": head, "data": data}}
    return {"type": "image", "source": {"type": "url", "url": url}}


def _user_blocks(content: Any, where: str) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    if not isinstance(content, list):
        raise InvalidRequest(f"{where}.content: must be a string or a list of parts")
    blocks: list[dict[str, Any]] = []
    for i, part in enumerate(content):
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text":
            blocks.append({"type": "text", "text": str(part.get("text", ""))})
        elif kind == "image_url":
            image = part.get("image_url") or {}
            blocks.append(_image(str(image.get("url", "") if isinstance(image, dict) else image)))
        else:
            raise InvalidRequest(f"{where}.content[{i}]: unsupported part type {kind!r}")
    return blocks


def _assistant_blocks(msg: dict[str, Any], where: str) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    text = _text_of(msg.get("content"), where)
    if text:
        blocks.append({"type": "text", "text": text})
    for j, call in enumerate(msg.get("tool_calls") or []):
        fn = call.get("function") or {}
        try:
            args = json.loads(fn.get("arguments") or "{}")
        except json.JSONDecodeError:
            raise InvalidRequest(f"{where}.tool_calls[{j}].function.arguments: not JSON") from None
        blocks.append(
            {
                "type": "tool_use",
                "id": call.get("id", f"call_{j}"),
                "name": fn.get("name", ""),
                "input": args,
            }
        )
    return blocks


def _messages(raw: Any) -> tuple[str | None, list[dict[str, Any]]]:
    if not isinstance(raw, list) or not raw:
        raise InvalidRequest("messages: must be a non-empty list")
    system: list[str] = []
    turns: list[dict[str, Any]] = []

    def add(role: str, blocks: list[dict[str, Any]]) -> None:
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": role, "content": blocks})

    for i, msg in enumerate(raw):
        where = f"messages[{i}]"
        if not isinstance(msg, dict):
            raise InvalidRequest(f"{where}: must be an object")
        role = msg.get("role")
        if role in ("system", "developer"):
            system.append(_text_of(msg.get("content"), where))
        elif role == "user":
            add("user", _user_blocks(msg.get("content"), where))
        elif role == "assistant":
            add("assistant", _assistant_blocks(msg, where))
        elif role == "tool":
            add(
                "user",
                [
                    {
                        "type": "tool_result",
                        "tool_use_id": str(msg.get("tool_call_id", "")),
                        "content": _text_of(msg.get("content"), where),
                    }
                ],
            )
        else:
            raise InvalidRequest(f"{where}.role: unsupported role {role!r}")
    return ("\n\n".join(system) if system else None), turns


def _tools(raw: Any) -> list[dict[str, Any]] | None:
    if raw is None:
        return None
    tools = []
    for i, tool in enumerate(raw):
        fn = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(fn, dict) or not fn.get("name"):
            raise InvalidRequest(f"tools[{i}]: only function tools with a name are supported")
        tools.append(
            {
                "name": fn["name"],
                "description": fn.get("description", ""),
                "input_schema": fn.get("parameters") or {"type": "object", "properties": {}},
            }
        )
    return tools


def _tool_choice(raw: Any) -> dict[str, Any] | None:
    if raw is None:
        return None
    if raw in ("auto", "none"):
        return {"type": raw}
    if raw == "required":
        return {"type": "any"}
    if isinstance(raw, dict) and isinstance(raw.get("function"), dict):
        return {"type": "tool", "name": raw["function"].get("name", "")}
    raise InvalidRequest(f"tool_choice: unsupported value {raw!r}")


def chat_request(body: dict[str, Any]) -> tuple[ModelRequest, bool, bool]:
    """(canonical request, stream?, include usage in the stream?)."""
    if body.get("n", 1) != 1:
        raise InvalidRequest("n: only 1 choice per request is supported")
    system, messages = _messages(body.get("messages"))
    stop = body.get("stop")
    fields: dict[str, Any] = {
        "model": body.get("model"),
        "messages": messages,
        "system": system,
        "temperature": None if body.get("temperature") is None else min(1.0, body["temperature"]),
        "top_p": body.get("top_p"),
        "stop_sequences": [stop] if isinstance(stop, str) else stop,
        "tools": _tools(body.get("tools")),
        "tool_choice": _tool_choice(body.get("tool_choice")),
        "metadata": {"user_id": body["user"]} if body.get("user") else None,
    }
    max_tokens = body.get("max_completion_tokens") or body.get("max_tokens")
    if max_tokens is not None:
        fields["max_tokens"] = max_tokens
    options = body.get("stream_options") or {}
    return (
        model_request(fields),
        bool(body.get("stream", False)),
        bool(options.get("include_usage")),
    )


def usage_json(usage: Usage) -> dict[str, Any]:
    prompt = usage.total_input_tokens
    return {
        "prompt_tokens": prompt,
        "completion_tokens": usage.output_tokens,
        "total_tokens": prompt + usage.output_tokens,
        "prompt_tokens_details": {"cached_tokens": usage.cache_read_input_tokens},
    }


def completion_json(response: ModelResponse, request_id: str) -> dict[str, Any]:
    text = "".join(b.get("text", "") for b in response.content if b.get("type") == "text")
    calls = [
        {
            "id": b.get("id", ""),
            "type": "function",
            "function": {"name": b.get("name", ""), "arguments": json.dumps(b.get("input", {}))},
        }
        for b in response.content
        if b.get("type") == "tool_use"
    ]
    message: dict[str, Any] = {"role": "assistant", "content": text or None}
    if calls:
        message["tool_calls"] = calls
    return {
        "id": f"chatcmpl-{request_id}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": response.model_id,
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": STOP_TO_FINISH.get(response.stop_reason or "", "stop"),
                "logprobs": None,
            }
        ],
        "usage": usage_json(response.usage),
    }


class ChunkTranslator:
    """Anthropic stream events -> OpenAI ``chat.completion.chunk`` objects."""

    def __init__(self, request_id: str, include_usage: bool) -> None:
        self.id = f"chatcmpl-{request_id}"
        self.created = int(time.time())
        self.include_usage = include_usage
        self.model = ""
        self.tool_index: dict[int, int] = {}
        self.usage_fields: dict[str, Any] = {}

    def _chunk(self, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
        }

    def chunks(self, event: StreamEvent, usage: Usage) -> Iterator[dict[str, Any]]:
        data = event.data
        if event.type == "message_start":
            self.model = str((data.get("message") or {}).get("model", ""))
            yield self._chunk({"role": "assistant", "content": ""})
        elif event.type == "content_block_start":
            block = data.get("content_block") or {}
            if block.get("type") == "tool_use":
                index = self.tool_index.setdefault(int(data.get("index", 0)), len(self.tool_index))
                yield self._chunk(
                    {
                        "tool_calls": [
                            {
                                "index": index,
                                "id": block.get("id", ""),
                                "type": "function",
                                "function": {"name": block.get("name", ""), "arguments": ""},
                            }
                        ]
                    }
                )
        elif event.type == "content_block_delta":
            delta = data.get("delta") or {}
            if delta.get("type") == "text_delta":
                yield self._chunk({"content": delta.get("text", "")})
            elif delta.get("type") == "input_json_delta":
                index = self.tool_index.get(int(data.get("index", 0)), 0)
                yield self._chunk(
                    {
                        "tool_calls": [
                            {
                                "index": index,
                                "function": {"arguments": delta.get("partial_json", "")},
                            }
                        ]
                    }
                )
        elif event.type == "message_delta":
            stop = (data.get("delta") or {}).get("stop_reason")
            yield self._chunk({}, STOP_TO_FINISH.get(stop or "", "stop"))
        elif event.type == "message_stop" and self.include_usage:
            chunk = self._chunk({})
            chunk["choices"] = []
            chunk["usage"] = usage_json(usage)
            yield chunk
