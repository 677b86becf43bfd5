"""The canonical request to chat completions and back (pure functions)."""

from __future__ import annotations

from gateway.providers.openai_translate import (
    to_chat_messages,
    to_chat_params,
    tool_input,
    usage_from_openai,
)
from gateway.types import ModelRequest


def test_system_blocks_and_plain_user_text() -> None:
    request = ModelRequest(
        model="gpt-5.5",
        system=[
            {"type": "text", "text": "Rule one.", "cache_control": {"type": "ephemeral"}},
            {"type": "text", "text": "Rule two."},
        ],
        messages=[
            {
                "role": "user",
                "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}],
            }
        ],
    )
    assert to_chat_messages(request) == [
        {"role": "system", "content": "Rule one.\n\nRule two."},
        {"role": "user", "content": "a\n\nb"},
    ]


def test_tool_round_trip_and_images() -> None:
    request = ModelRequest(
        model="gpt-5.5",
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "what is this?"},
                    {
                        "type": "image",
                        "source": {"type": "base64", "media_type": "image/png", "data": "AAA"},
                    },
                ],
            },
            {
                "role": "assistant",
                "content": [
                    {"type": "thinking", "thinking": "hmm", "signature": "s"},
                    {"type": "text", "text": "Let me look."},
                    {"type": "tool_use", "id": "call_1", "name": "lookup", "input": {"q": "x"}},
                ],
            },
            {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": "call_1",
                        "content": "found",
                        "is_error": False,
                    },
                    {"type": "text", "text": "and now?"},
                ],
            },
        ],
    )
    assert to_chat_messages(request) == [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "what is this?"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAA"}},
            ],
        },
        {
            "role": "assistant",
            "content": "Let me look.",
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "lookup", "arguments": '{"q": "x"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "found"},
        {"role": "user", "content": "and now?"},
    ]


def test_params_tools_choice_stop_and_max_tokens() -> None:
    request = ModelRequest(
        model="gpt-5.5",
        max_tokens=77,
        temperature=0.1,
        top_p=0.9,
        stop_sequences=["END"],
        messages=[{"role": "user", "content": "hi"}],
        tools=[
            {
                "name": "lookup",
                "description": "Look up.",
                "input_schema": {"type": "object", "properties": {"q": {"type": "string"}}},
                "cache_control": {"type": "ephemeral"},
            }
        ],
        tool_choice={"type": "tool", "name": "lookup", "disable_parallel_tool_use": True},
        metadata={"user_id": "u"},
    )
    params = to_chat_params(request, "max_completion_tokens")
    assert params == {
        "model": "gpt-5.5",
        "messages": [{"role": "user", "content": "hi"}],
        "max_completion_tokens": 77,
        "temperature": 0.1,
        "top_p": 0.9,
        "stop": ["END"],
        "tools": [
            {
                "type": "function",
                "function": {
                    "name": "lookup",
                    "description": "Look up.",
                    "parameters": {"type": "object", "properties": {"q": {"type": "string"}}},
                },
            }
        ],
        "tool_choice": {"type": "function", "function": {"name": "lookup"}},
        "parallel_tool_calls": False,
    }
    for choice, expected in (
        ({"type": "any"}, "required"),
        ({"type": "auto"}, "auto"),
        ({"type": "none"}, "none"),
    ):
        assert (
            to_chat_params(request.model_copy(update={"tool_choice": choice}), "max_tokens")[
                "tool_choice"
            ]
            == expected
        )
    assert "max_tokens" in to_chat_params(request, "max_tokens")


def test_tool_input_and_usage() -> None:
    assert tool_input('{"a": 1}') == {"a": 1}
    assert tool_input("") == {}
    assert tool_input("{broken") == {"_raw_arguments": "{broken"}
    assert tool_input("[1]") == {"_value": [1]}
    usage = usage_from_openai(
        {
            "prompt_tokens": 1500,
            "completion_tokens": 20,
            "prompt_tokens_details": {"cached_tokens": 1024},
        }
    )
    assert (usage.input_tokens, usage.cache_read_input_tokens, usage.output_tokens) == (
        476,
        1024,
        20,
    )
    assert usage.total_input_tokens == 1500
    assert usage_from_openai(None).input_tokens == 0
