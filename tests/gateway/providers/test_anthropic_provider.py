"""AnthropicProvider over real HTTP against the emulator: answers, streams, usage, every fault."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from gateway.providers.anthropic import AnthropicProvider
from gateway.providers.base import Provider
from gateway.types import ModelRequest, StreamEvent
from kernel.errors import (
    ProviderConnectionError,
    ProviderError,
    ProviderStatusError,
    ProviderTimeout,
    StreamInterrupted,
)
from testkit.clock import ManualClock
from testkit.emulator import EmulatorServer, count_text
from testkit.faults import Fault

pytestmark = pytest.mark.wire

QUESTION = (
    "[1] Invoices are paid within 45 days.\n[2] Disputes go to the finance team.\n\n"
    "Question: Within how many days are invoices paid?"
)
ANSWER = "Invoices are paid within 45 days. [1]"


@pytest.fixture
async def provider(emu: EmulatorServer) -> AsyncIterator[AnthropicProvider]:
    p = AnthropicProvider(api_key="test", base_url=emu.base_url, timeout=5)
    yield p
    await p.aclose()


def req(**kw: Any) -> ModelRequest:
    base: dict[str, Any] = {
        "model": "claude-haiku-4-5",
        "messages": [{"role": "user", "content": QUESTION}],
        "max_tokens": 200,
    }
    base.update(kw)
    return ModelRequest(**base)


async def collect(provider: Provider, request: ModelRequest) -> list[StreamEvent]:
    return [e async for e in provider.stream(request)]


async def test_complete(provider: AnthropicProvider) -> None:
    response = await provider.complete(req())
    assert response.text == ANSWER
    assert response.provider == "anthropic"
    assert response.model_id == "claude-haiku-4-5"
    assert response.id.startswith("msg_")
    assert response.stop_reason == "end_turn"
    assert response.usage.input_tokens == count_text(QUESTION)
    assert response.usage.output_tokens == count_text(ANSWER)


async def test_stream_events_and_merged_cumulative_usage(provider: AnthropicProvider) -> None:
    events = await collect(provider, req())
    kinds = [e.type for e in events]
    assert kinds[:3] == ["message_start", "content_block_start", "ping"]
    assert kinds[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    text = "".join(e.data["delta"]["text"] for e in events if e.type == "content_block_delta")
    assert text == ANSWER
    usage = events[-2].data["usage"]
    assert usage["input_tokens"] == count_text(QUESTION)
    assert usage["output_tokens"] == count_text(ANSWER)  # the last value, not 1 + the last
    assert usage["cache_creation"] == {
        "ephemeral_5m_input_tokens": 0,
        "ephemeral_1h_input_tokens": 0,
    }


async def test_everything_passes_through_untouched(
    emu: EmulatorServer, provider: AnthropicProvider
) -> None:
    tools = [
        {
            "name": "search",
            "description": "Search.",
            "cache_control": {"type": "ephemeral", "ttl": "1h"},
            "input_schema": {"type": "object", "properties": {"q": {"type": "string"}}},
        }
    ]
    system = [
        {"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral", "ttl": "1h"}}
    ]
    messages = [
        {"role": "user", "content": "find the policy"},
        {
            "role": "assistant",
            "content": [
                {"type": "tool_use", "id": "toolu_1", "name": "search", "input": {"q": "policy"}}
            ],
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_1",
                    "content": [{"type": "text", "text": "Policy v2"}],
                }
            ],
        },
    ]
    request = req(
        messages=messages,
        system=system,
        tools=tools,
        tool_choice={"type": "auto"},
        temperature=0.2,
        stop_sequences=["END"],
        metadata={"user_id": "u-1"},
        extra_body={"thinking": {"type": "disabled"}, "service_tier": "auto"},
        extra_headers={
            "anthropic-beta": "interleaved-thinking-2025-05-14",
            "x-api-key": "must-not-override",
            "content-length": "1",
        },
    )
    await provider.complete(request)
    sent = emu.requests[-1]
    assert sent.json == {
        "model": "claude-haiku-4-5",
        "max_tokens": 200,
        "messages": messages,
        "system": system,
        "tools": tools,
        "tool_choice": {"type": "auto"},
        "temperature": 0.2,
        "stop_sequences": ["END"],
        "metadata": {"user_id": "u-1"},
        "thinking": {"type": "disabled"},
        "service_tier": "auto",
    }
    assert sent.headers["anthropic-beta"] == "interleaved-thinking-2025-05-14"
    assert sent.headers.get("x-api-key") is None
    assert sent.headers["authorization"] == "Bearer test"


async def test_unknown_content_blocks_come_back_untouched(
    emu: EmulatorServer, provider: AnthropicProvider
) -> None:
    odd = {
        "type": "server_tool_use",
        "id": "srvtoolu_1",
        "name": "web_search",
        "input": {"query": "x"},
    }
    emu.set_responder("claude", lambda body: [odd, {"type": "text", "text": "done"}])
    response = await provider.complete(req())
    assert response.content == [odd, {"type": "text", "text": "done"}]


FAULTS = [
    (Fault.status(429, retry_after=2), ProviderStatusError, 429, True, 2.0),
    (Fault.status(529), ProviderStatusError, 529, True, None),
    (Fault.status(500), ProviderStatusError, 500, True, None),
    (Fault.status(400), ProviderStatusError, 400, False, None),
    (Fault.status(401), ProviderStatusError, 401, False, None),
    (Fault.status(403), ProviderStatusError, 403, False, None),
    (Fault.status(404), ProviderStatusError, 404, False, None),
    (Fault.reset(), ProviderConnectionError, None, True, None),
]


@pytest.mark.parametrize(("fault", "error", "status", "retryable", "retry_after"), FAULTS)
@pytest.mark.parametrize("streaming", [False, True])
async def test_fault_matrix(
    emu: EmulatorServer,
    provider: AnthropicProvider,
    fault: Fault,
    error: type[ProviderError],
    status: int | None,
    retryable: bool,
    retry_after: float | None,
    streaming: bool,
) -> None:
    emu.faults.push(fault)
    with pytest.raises(error) as info:
        if streaming:
            await collect(provider, req())
        else:
            await provider.complete(req())
    exc = info.value
    assert type(exc) is error
    assert exc.retryable is retryable
    assert exc.provider == "anthropic" and exc.model == "claude-haiku-4-5"
    if status is not None:
        assert isinstance(exc, ProviderStatusError)
        assert exc.upstream_status == status and exc.status == status
        assert exc.retry_after == retry_after
        assert exc.details["request_id"].startswith("req_")
    assert (await provider.complete(req())).text == ANSWER  # the next call is fine


async def test_error_event_after_200_is_stream_interrupted(
    emu: EmulatorServer, provider: AnthropicProvider
) -> None:
    emu.faults.push(Fault.error_after_start())
    seen: list[str] = []
    with pytest.raises(StreamInterrupted) as info:
        async for event in provider.stream(req()):
            seen.append(event.type)
    assert seen[0] == "message_start" and "content_block_delta" in seen
    assert "message_stop" not in seen
    assert info.value.details["type"] == "overloaded_error"


async def test_cut_json_body_is_a_connection_error(
    emu: EmulatorServer, provider: AnthropicProvider
) -> None:
    emu.faults.push(Fault.error_after_start())
    with pytest.raises(ProviderConnectionError):
        await provider.complete(req())


async def test_slow_upstream_is_a_timeout(emu: EmulatorServer) -> None:
    emu.faults.push(Fault.slow(2.0))
    impatient = AnthropicProvider(api_key="k", base_url=emu.base_url, timeout=0.2)
    with pytest.raises(ProviderTimeout) as info:
        await impatient.complete(req())
    assert info.value.retryable
    emu.faults.push(Fault.slow(2.0))
    with pytest.raises(ProviderTimeout):
        await collect(impatient, req())
    await impatient.aclose()


async def test_cache_create_read_and_expiry(
    emu: EmulatorServer, provider: AnthropicProvider, clock: ManualClock
) -> None:
    prefix = " ".join(f"clause{i}" for i in range(4096))
    system = [{"type": "text", "text": prefix, "cache_control": {"type": "ephemeral"}}]
    first = (await provider.complete(req(system=system))).usage
    assert (
        first.cache_creation_input_tokens,
        first.cache_creation_5m_input_tokens,
        first.cache_read_input_tokens,
    ) == (4096, 4096, 0)
    clock.advance(200)
    events = await collect(provider, req(system=system))
    streamed = events[-2].data["usage"]
    assert streamed["cache_read_input_tokens"] == 4096
    assert streamed["cache_creation_input_tokens"] == 0
    clock.advance(301)
    expired = (await provider.complete(req(system=system))).usage
    assert expired.cache_creation_input_tokens == 4096 and expired.cache_read_input_tokens == 0


async def test_one_hour_cache_and_minimum_length(
    provider: AnthropicProvider, clock: ManualClock
) -> None:
    system = [
        {
            "type": "text",
            "text": " ".join(f"c{i}" for i in range(1500)),
            "cache_control": {"type": "ephemeral", "ttl": "1h"},
        }
    ]
    sonnet = (await provider.complete(req(model="claude-sonnet-4-6", system=system))).usage
    assert sonnet.cache_creation_1h_input_tokens == 1500  # Sonnet caches from 1,024 tokens
    assert sonnet.cache_creation_5m_input_tokens == 0
    haiku = (await provider.complete(req(system=system))).usage
    assert haiku.cache_creation_input_tokens == 0  # Haiku needs 4,096
    clock.advance(3000)
    again = (await provider.complete(req(model="claude-sonnet-4-6", system=system))).usage
    assert again.cache_read_input_tokens == 1500


async def test_five_breakpoints_is_a_400(provider: AnthropicProvider) -> None:
    system = [
        {"type": "text", "text": f"p{i}", "cache_control": {"type": "ephemeral"}} for i in range(5)
    ]
    with pytest.raises(ProviderStatusError, match="maximum of 4") as info:
        await provider.complete(req(system=system))
    assert info.value.upstream_status == 400 and not info.value.retryable


async def test_count_tokens(emu: EmulatorServer, provider: AnthropicProvider) -> None:
    tools = [{"name": "t", "description": "d", "input_schema": {"type": "object"}}]
    n = await provider.count_tokens(req(system="Be brief.", tools=tools))
    assert n == count_text(QUESTION) + 3 + (1 + 1 + count_text('{"type":"object"}'))
    assert emu.requests[-1].path == "/v1/messages/count_tokens"
