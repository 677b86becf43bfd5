"""The canonical (Anthropic-shaped) request and response, to and from OpenAI chat completions.

Request, canonical -> OpenAI:
- ``system`` (a string or text blocks, joined by blank lines) -> a first ``system`` message;
- user text/image blocks -> the message's content (a plain string when it is only text);
  ``tool_result`` blocks -> ``tool`` messages placed before the rest of that user turn;
- assistant ``tool_use`` blocks -> ``tool_calls`` (arguments as JSON); ``thinking`` is dropped;
- ``tools`` -> function tools (``input_schema`` -> ``parameters``); ``tool_choice`` auto/any/
  tool/none -> "auto"/"required"/named function/"none"; ``stop_sequences`` -> ``stop``;
- ``cache_control``, ``metadata`` and Anthropic-only ``extra_body`` fields are not sent.

Response, OpenAI -> canonical: text and tool calls become ``text`` and ``tool_use`` blocks;
finish reasons stop/length/tool_calls/content_filter -> end_turn/max_tokens/tool_use/refusal;
usage: ``input_tokens`` = prompt tokens minus ``prompt_tokens_details.cached_tokens``, which
become ``cache_read_input_tokens`` (so the token kinds add up as Anthropic's do).
"""

from __future__ import annotations

import json
from typing import Any

from gateway.types import ModelRequest, Usage

FINISH_TO_STOP = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "function_call": "tool_use",
    "content_filter": "refusal",
}


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "\n\n".join(
        str(b.get("text", ""))
        for b in content or []
        if isinstance(b, dict) and b.get("type") == "text"
    )


def _image_part(block: dict[str, Any]) -> dict[str, Any]:
    source = block.get("source") or {}
    if source.get("type") == "url":
        url = str(source.get("url", ""))
    else:
        url = f"data:{source.get('media_type', 'image/png')};base64,{source.get('data', '')}"
    return {"type": "image_url", "image_url": {"url": url}}


def _user_messages(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"role": "user", "content": content}]
    out: list[dict[str, Any]] = []
    parts: list[dict[str, Any]] = []
    for block in content or []:
        kind = block.get("type")
        if kind == "tool_result":
            result = _text(block.get("content", ""))
            if block.get("is_error"):
                result = f"[tool error] {result}"
            out.append(
                {"role": "tool", "tool_call_id": block.get("tool_use_id", ""), "content": result}
            )
        elif kind == "text":
            parts.append({"type": "text", "text": str(block.get("text", ""))})
        elif kind == "image":
            parts.append(_image_part(block))
        elif kind == "document" and (block.get("source") or {}).get("type") == "text":
            parts.append({"type": "text", "text": str(block["source"].get("data", ""))})
    if parts:
        if all(p["type"] == "text" for p in parts):
            out.append({"role": "user", "content": "\n\n".join(p["text"] for p in parts)})
        else:
            out.append({"role": "user", "content": parts})
    return out


def _assistant_message(content: Any) -> dict[str, Any]:
    if isinstance(content, str):
        return {"role": "assistant", "content": content}
    text = _text(content)
    calls = [
        {
            "id": b.get("id", ""),
            "type": "function",
            "function": {"name": b.get("name", ""), "arguments": json.dumps(b.get("input", {}))},
        }
        for b in content or []
        if isinstance(b, dict) and b.get("type") == "tool_use"
    ]
    message: dict[str, Any] = {"role": "assistant", "content": text or None}
    if calls:
        message["tool_calls"] = calls
    return message


def to_chat_messages(request: ModelRequest) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    if request.system:
        messages.append({"role": "system", "content": _text(request.system)})
    for message in request.messages:
        if message.get("role") == "assistant":
            messages.append(_assistant_message(message.get("content")))
        else:
            messages.extend(_user_messages(message.get("content")))
    return messages


def _tool_choice(choice: dict[str, Any]) -> Any:
    kind = choice.get("type")
    if kind == "any":
        return "required"
    if kind == "tool":
        return {"type": "function", "function": {"name": choice.get("name", "")}}
    if kind == "none":
        return "none"
    return "auto"


def to_chat_params(request: ModelRequest, max_tokens_param: str) -> dict[str, Any]:
    """Keyword arguments for ``client.chat.completions.create``."""
    params: dict[str, Any] = {
        "model": request.model,
        "messages": to_chat_messages(request),
        max_tokens_param: request.max_tokens,
    }
    if request.temperature is not None:
        params["temperature"] = request.temperature
    if request.top_p is not None:
        params["top_p"] = request.top_p
    if request.stop_sequences:
        params["stop"] = list(request.stop_sequences)
    if request.tools:
        params["tools"] = [
            {
                "type": "function",
                "function": {
                    "name": t.get("name", ""),
                    "description": t.get("description", ""),
                    "parameters": t.get("input_schema") or {"type": "object", "properties": {}},
                },
            }
            for t in request.tools
            if "input_schema" in t or "name" in t
        ]
        if request.tool_choice:
            params["tool_choice"] = _tool_choice(request.tool_choice)
            if request.tool_choice.get("disable_parallel_tool_use"):
                params["parallel_tool_calls"] = False
    return params


def tool_input(arguments: str | None) -> dict[str, Any]:
    """Tool-call arguments as an object (unparseable text kept under ``_raw_arguments``)."""
    if not arguments:
        return {}
    try:
        value = json.loads(arguments)
    except ValueError:
        return {"_raw_arguments": arguments}
    return value if isinstance(value, dict) else {"_value": value}


def usage_from_openai(usage: Any) -> Usage:
    """OpenAI's usage object (a model or a dict) as a Usage."""
    if usage is None:
        return Usage()
    data = usage if isinstance(usage, dict) else usage.model_dump()
    details = data.get("prompt_tokens_details") or {}
    cached = int(details.get("cached_tokens") or 0)
    prompt = int(data.get("prompt_tokens") or 0)
    return Usage(
        input_tokens=max(0, prompt - cached),
        output_tokens=int(data.get("completion_tokens") or 0),
        cache_read_input_tokens=cached,
    )
