"""OpenAIProvider: scripted chunks (httpx2.MockTransport) and real HTTP against the emulator."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx2
import pytest
import tiktoken

from gateway.providers.base import Provider
from gateway.providers.openai import OpenAIProvider
from gateway.types import ModelRequest, StreamEvent
from kernel.errors import (
    ProviderConnectionError,
    ProviderStatusError,
    ProviderTimeout,
    StreamInterrupted,
)
from testkit.emulator import EmulatorServer, count_text
from testkit.emulator.openai_cache import chat_tokens
from testkit.faults import Fault

QUESTION = "[1] Laptops are replaced every 3 years.\n\nQuestion: How often are laptops replaced?"
ANSWER = "Laptops are replaced every 3 years. [1]"
REQUEST = ModelRequest(model="gpt-5.5", messages=[{"role": "user", "content": QUESTION}])


def chunk(
    delta: dict[str, Any] | None, finish: str | None = None, usage: dict[str, Any] | None = None
) -> bytes:
    body: dict[str, Any] = {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "gpt-5.5",
        "usage": usage,
        "choices": [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return f"data: {json.dumps(body)}\n\n".encode()


def scripted(body: bytes) -> OpenAIProvider:
    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, content=body, headers={"content-type": "text/event-stream"})

    client = httpx2.AsyncClient(transport=httpx2.MockTransport(handler))
    return OpenAIProvider(api_key="k", base_url="http://compat.test/v1", http_client=client)


async def collect(provider: Provider, request: ModelRequest = REQUEST) -> list[StreamEvent]:
    return [e async for e in provider.stream(request)]


async def test_stream_of_text_then_tool_call_becomes_anthropic_events() -> None:
    body = b"".join(
        [
            chunk({"role": "assistant", "content": ""}),
            chunk({"content": "Let me "}),
            chunk({"content": "check."}),
            chunk(
                {
                    "tool_calls": [
                        {
                            "index": 0,
                            "id": "call_9",
                            "type": "function",
                            "function": {"name": "lookup", "arguments": ""},
                        }
                    ]
                }
            ),
            chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"q":'}}]}),
            chunk({"tool_calls": [{"index": 0, "function": {"arguments": '"x"}'}}]}),
            chunk({}, "tool_calls"),
            chunk(
                None,
                usage={
                    "prompt_tokens": 2000,
                    "completion_tokens": 15,
                    "total_tokens": 2015,
                    "prompt_tokens_details": {"cached_tokens": 1024},
                },
            ),
            b"data: [DONE]\n\n",
        ]
    )
    events = await collect(scripted(body))
    assert [e.type for e in events] == [
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "content_block_start",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    assert events[5].data["content_block"] == {
        "type": "tool_use",
        "id": "call_9",
        "name": "lookup",
        "input": {},
    }
    assert events[5].data["index"] == 1
    partial = "".join(
        e.data["delta"].get("partial_json", "") for e in events if e.type == "content_block_delta"
    )
    assert partial == '{"q":"x"}'
    final = events[-2].data
    assert final["delta"]["stop_reason"] == "tool_use"
    assert final["usage"]["input_tokens"] == 976
    assert final["usage"]["cache_read_input_tokens"] == 1024
    assert final["usage"]["output_tokens"] == 15


async def test_stream_without_finish_reason_is_interrupted() -> None:
    body = chunk({"role": "assistant", "content": "partial"})
    with pytest.raises(StreamInterrupted, match="finish reason"):
        await collect(scripted(body))


async def test_error_chunk_mid_stream_is_interrupted() -> None:
    body = chunk({"content": "a"}) + b'data: {"error": {"message": "overloaded"}}\n\n'
    with pytest.raises(StreamInterrupted, match="overloaded"):
        await collect(scripted(body))


# Real HTTP against the emulator -------------------------------------------------------------
@pytest.fixture
async def provider(emu: EmulatorServer) -> AsyncIterator[OpenAIProvider]:
    p = OpenAIProvider(api_key="test", base_url=emu.base_url + "/v1", timeout=5)
    yield p
    await p.aclose()


@pytest.mark.wire
async def test_complete_and_stream_against_the_emulator(
    emu: EmulatorServer, provider: OpenAIProvider
) -> None:
    response = await provider.complete(REQUEST)
    prompt = len(chat_tokens({"messages": [{"role": "user", "content": QUESTION}]}))
    assert response.text == ANSWER and response.stop_reason == "end_turn"
    assert response.usage.input_tokens == prompt
    assert response.usage.output_tokens == count_text(ANSWER)
    sent = emu.requests[-1].json
    assert sent is not None and sent["max_completion_tokens"] == 1024
    events = await collect(provider)
    text = "".join(e.data["delta"]["text"] for e in events if e.type == "content_block_delta")
    assert text == ANSWER
    assert events[-2].data["usage"]["output_tokens"] == count_text(ANSWER)
    assert emu.requests[-1].json["stream_options"] == {"include_usage": True}  # type: ignore[index]


@pytest.mark.wire
async def test_compat_server_tool_calls_and_max_tokens_param(emu: EmulatorServer) -> None:
    compat = OpenAIProvider(
        api_key="x", base_url=emu.base_url + "/v1", name="vllm", max_tokens_param="max_tokens"
    )
    request = REQUEST.model_copy(
        update={
            "tools": [
                {
                    "name": "lookup",
                    "input_schema": {
                        "type": "object",
                        "required": ["q"],
                        "properties": {"q": {"type": "string"}},
                    },
                }
            ],
            "tool_choice": {"type": "any"},
            "max_tokens": 50,
            "extra_headers": {"anthropic-beta": "x", "x-trace": "t1"},
        }
    )
    response = await compat.complete(request)
    assert response.provider == "vllm" and response.stop_reason == "tool_use"
    assert response.content[0]["type"] == "tool_use"
    assert response.content[0]["input"] == {"q": "emulated"}
    sent = emu.requests[-1]
    assert sent.json is not None and sent.json["max_tokens"] == 50
    assert sent.headers["x-trace"] == "t1" and "anthropic-beta" not in sent.headers
    await compat.aclose()


@pytest.mark.wire
@pytest.mark.parametrize("streaming", [False, True])
@pytest.mark.parametrize(
    ("fault", "error", "retryable"),
    [
        (Fault.status(429, retry_after=4), ProviderStatusError, True),
        (Fault.status(500), ProviderStatusError, True),
        (Fault.status(529), ProviderStatusError, True),
        (Fault.status(404), ProviderStatusError, False),
        (Fault.status(400), ProviderStatusError, False),
        (Fault.status(401), ProviderStatusError, False),
        (Fault.reset(), ProviderConnectionError, True),
    ],
)
async def test_fault_matrix(
    emu: EmulatorServer,
    provider: OpenAIProvider,
    fault: Fault,
    error: type[Exception],
    retryable: bool,
    streaming: bool,
) -> None:
    emu.faults.push(fault)
    with pytest.raises(error) as info:
        if streaming:
            await collect(provider)
        else:
            await provider.complete(REQUEST)
    exc: Any = info.value
    assert exc.retryable is retryable and exc.provider == "openai"
    if fault.kind == "status":
        assert exc.upstream_status == fault.status_code
        assert exc.retry_after == (4.0 if fault.status_code == 429 else None)
        assert exc.details["request_id"].startswith("req_")


@pytest.mark.wire
async def test_error_after_start_and_timeouts(emu: EmulatorServer) -> None:
    impatient = OpenAIProvider(api_key="k", base_url=emu.base_url + "/v1", timeout=0.2)
    emu.faults.push(Fault.error_after_start())
    with pytest.raises(StreamInterrupted):
        await collect(impatient)
    emu.faults.push(Fault.error_after_start())
    with pytest.raises(ProviderConnectionError):
        await impatient.complete(REQUEST)
    emu.faults.push(Fault.slow(2.0))
    with pytest.raises(ProviderTimeout):
        await impatient.complete(REQUEST)
    await impatient.aclose()


async def test_count_tokens_uses_tiktoken(provider: OpenAIProvider) -> None:
    encoding = tiktoken.get_encoding("o200k_base")
    expected = 3 + 3 + len(encoding.encode(QUESTION))
    assert await provider.count_tokens(REQUEST) == expected
    with_system = REQUEST.model_copy(update={"system": "Be brief."})
    assert await provider.count_tokens(with_system) == expected + 3 + len(
        encoding.encode("Be brief.")
    )
