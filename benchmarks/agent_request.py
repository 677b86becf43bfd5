"""A coding agent's request, as `gateway_overhead.py` sends it beside its one-word request.

Synthetic and deterministic (no real conversation is copied): a long system prompt, twenty
tools with JSON schemas, and sixty messages of text, tool calls and tool results, about 110 KB
of JSON, the shape of a turn of Claude Code well into a session. The gateway's work that grows
with the body (reading and parsing it, validation, the token estimate that budgets and rate
limits reserve with, the body for the upstream, the audit record) shows here and not on the
one-word request.
"""

from __future__ import annotations

from typing import Any


def _tool(i: int) -> dict[str, Any]:
    return {
        "name": f"tool_{i}",
        "description": "Does one thing to the working tree and says what it did. " * 12,
        "input_schema": {
            "type": "object",
            "properties": {
                f"arg_{j}": {"type": "string", "description": "What this argument is for. " * 4}
                for j in range(8)
            },
            "required": ["arg_0"],
        },
    }


def agent_request(model: str, turns: int = 30) -> dict[str, Any]:
    messages: list[dict[str, Any]] = []
    for i in range(turns):
        messages.append(
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Please look at this file and fix the test. " * 12},
                    {
                        "type": "tool_result",
                        "tool_use_id": f"toolu_{i:04d}",
                        "content": [{"type": "text", "text": "    return value  # a line\n" * 40}],
                    },
                ],
            }
        )
        messages.append(
            {
                "role": "assistant",
                "content": [
                    {"type": "text", "text": "I will read the next file. " * 10},
                    {
                        "type": "tool_use",
                        "id": f"toolu_{i + 1:04d}",
                        "name": "tool_1",
                        "input": {"arg_0": f"src/module_{i}.py"},
                    },
                ],
            }
        )
    return {
        "model": model,
        "max_tokens": 16,
        "system": [{"type": "text", "text": "You are a coding agent in a repository. " * 100}],
        "tools": [_tool(i) for i in range(20)],
        "messages": messages,
    }
