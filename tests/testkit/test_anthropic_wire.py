"""The official anthropic SDK (sync and async, JSON and streaming) against the emulator."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import anthropic
import httpx2
import pytest

from testkit.clock import ManualClock
from testkit.emulator import EmulatorServer, count_text
from testkit.faults import Fault

pytestmark = pytest.mark.wire

QUESTION = (
    "[1] The warranty lasts two years from delivery.\n"
    "[2] Returns are accepted within 30 days.\n\n"
    "Question: How long does the warranty last?"
)
ANSWER = "The warranty lasts two years from delivery. [1]"
IN, OUT = count_text(QUESTION), count_text(ANSWER)


def sync_client(emu: EmulatorServer, **kw: Any) -> anthropic.Anthropic:
    kw.setdefault("max_retries", 0)
    return anthropic.Anthropic(base_url=emu.base_url, api_key="test-key", **kw)


@pytest.fixture
def client(emu: EmulatorServer) -> Iterator[anthropic.Anthropic]:
    with sync_client(emu) as c:
        yield c


def ask(client: anthropic.Anthropic, **kw: Any) -> anthropic.types.Message:
    params: dict[str, Any] = {
        "model": "claude-haiku-4-5",
        "max_tokens": 200,
        "messages": [{"role": "user", "content": QUESTION}],
    }
    params.update(kw)
    return client.messages.create(**params)


def test_json_message_shape_usage_and_headers(
    emu: EmulatorServer, client: anthropic.Anthropic
) -> None:
    raw = client.messages.with_raw_response.create(
        model="claude-sonnet-4-6", max_tokens=200, messages=[{"role": "user", "content": QUESTION}]
    )
    message = raw.parse()
    assert message.type == "message" and message.role == "assistant"
    assert message.model == "claude-sonnet-4-6"
    assert [b.type for b in message.content] == ["text"]
    assert message.content[0].text == ANSWER  # type: ignore[union-attr]
    assert message.stop_reason == "end_turn"
    assert message.usage.input_tokens == IN
    assert message.usage.output_tokens == OUT
    assert message.usage.cache_read_input_tokens == 0
    assert message.usage.cache_creation is not None
    headers = raw.headers
    assert headers["request-id"].startswith("req_")
    assert headers["anthropic-ratelimit-requests-limit"] == "4000"
    assert headers["anthropic-ratelimit-requests-remaining"] == "3999"
    assert headers["anthropic-ratelimit-tokens-reset"].endswith("Z")
    body = json.loads(raw.http_response.content)
    assert set(body) == {
        "id",
        "type",
        "role",
        "model",
        "content",
        "stop_reason",
        "stop_sequence",
        "usage",
    }


def test_stream_event_order_and_cumulative_usage(
    emu: EmulatorServer, client: anthropic.Anthropic
) -> None:
    events = list(ask(client, stream=True))  # type: ignore[call-overload]
    kinds = [e.type for e in events]
    assert kinds[0] == "message_start"
    assert kinds[1] == "content_block_start"
    assert kinds[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    assert set(kinds[2:-3]) == {"content_block_delta"}
    text = "".join(e.delta.text for e in events if e.type == "content_block_delta")
    assert text == ANSWER
    start, delta = events[0], events[-2]
    assert start.message.usage.input_tokens == IN and start.message.usage.output_tokens == 1
    assert delta.usage.output_tokens == OUT and delta.usage.input_tokens == IN


def test_raw_sse_includes_ping_after_the_first_block_start(
    emu: EmulatorServer, client: anthropic.Anthropic
) -> None:
    with client.messages.with_streaming_response.create(
        model="claude-haiku-4-5",
        max_tokens=50,
        stream=True,
        messages=[{"role": "user", "content": "hi"}],
    ) as raw:
        names = [line.split(": ", 1)[1] for line in raw.iter_lines() if line.startswith("event: ")]
        assert raw.headers["content-type"].startswith("text/event-stream")
    assert names[:3] == ["message_start", "content_block_start", "ping"]
    assert names[-1] == "message_stop"


def test_stream_helper_accumulates_the_final_message(
    emu: EmulatorServer, client: anthropic.Anthropic
) -> None:
    with client.messages.stream(
        model="claude-haiku-4-5", max_tokens=200, messages=[{"role": "user", "content": QUESTION}]
    ) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == ANSWER
    assert final.usage.output_tokens == OUT


async def test_async_client_json_and_stream(emu: EmulatorServer) -> None:
    client = anthropic.AsyncAnthropic(base_url=emu.base_url, api_key="k", max_retries=0)
    message = await client.messages.create(
        model="claude-opus-4-8", max_tokens=100, messages=[{"role": "user", "content": QUESTION}]
    )
    assert message.content[0].text == ANSWER  # type: ignore[union-attr]
    async with client.messages.stream(
        model="claude-opus-4-8", max_tokens=100, messages=[{"role": "user", "content": QUESTION}]
    ) as stream:
        final = await stream.get_final_message()
    assert final.content[0].text == ANSWER  # type: ignore[union-attr]
    await client.close()


def test_tools_and_forced_tool_use_stream_and_json(
    emu: EmulatorServer, client: anthropic.Anthropic
) -> None:
    tools = [
        {
            "name": "get_weather",
            "description": "Weather for a city.",
            "input_schema": {
                "type": "object",
                "required": ["city"],
                "properties": {"city": {"type": "string"}},
            },
        }
    ]
    message = ask(client, tools=tools, tool_choice={"type": "tool", "name": "get_weather"})
    assert message.stop_reason == "tool_use"
    block = message.content[0]
    assert block.type == "tool_use" and block.name == "get_weather"
    assert block.input == {"city": "emulated"}
    with client.messages.stream(
        model="claude-haiku-4-5",
        max_tokens=100,
        tools=tools,
        tool_choice={"type": "any"},
        messages=[{"role": "user", "content": "weather?"}],
    ) as stream:
        final = stream.get_final_message()
    assert final.content[0].input == {"city": "emulated"}  # type: ignore[union-attr]
    follow_up = ask(
        client,
        tools=tools,
        messages=[
            {"role": "user", "content": "weather?"},
            {
                "role": "assistant",
                "content": [
                    {
                        "type": "tool_use",
                        "id": block.id,
                        "name": "get_weather",
                        "input": block.input,
                    }
                ],
            },
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": block.id, "content": "Sunny"}],
            },
        ],
    )
    assert follow_up.stop_reason == "end_turn"


def test_scripted_replies_per_model_prefix(
    emu: EmulatorServer, client: anthropic.Anthropic
) -> None:
    emu.set_reply("claude-haiku", "The sources do not contain this.")
    emu.set_responder("claude-haiku-4-5-special", lambda body: f"{len(body['messages'])} msg")
    assert ask(client).content[0].text == "The sources do not contain this."  # type: ignore[union-attr]
    special = ask(client, model="claude-haiku-4-5-special")
    assert special.content[0].text == "1 msg"  # type: ignore[union-attr]
    assert ask(client, model="claude-sonnet-4-6").content[0].text == ANSWER  # type: ignore[union-attr]


def test_max_tokens_and_stop_sequences(emu: EmulatorServer, client: anthropic.Anthropic) -> None:
    cut = ask(client, max_tokens=3)
    assert cut.stop_reason == "max_tokens" and cut.usage.output_tokens == 3
    assert cut.content[0].text == "The warranty lasts"  # type: ignore[union-attr]
    stopped = ask(client, stop_sequences=["two"])
    assert stopped.stop_reason == "stop_sequence" and stopped.stop_sequence == "two"
    assert stopped.content[0].text == "The warranty lasts "  # type: ignore[union-attr]


def test_prompt_caching_through_the_wire(
    emu: EmulatorServer, client: anthropic.Anthropic, clock: ManualClock
) -> None:
    system = [
        {
            "type": "text",
            "text": " ".join(f"rule{i}" for i in range(4100)),
            "cache_control": {"type": "ephemeral"},
        }
    ]
    first = ask(client, system=system)
    assert first.usage.cache_creation_input_tokens == 4100
    assert first.usage.cache_creation.ephemeral_5m_input_tokens == 4100  # type: ignore[union-attr]
    assert first.usage.input_tokens == IN
    second = ask(client, system=system)
    assert second.usage.cache_read_input_tokens == 4100
    assert second.usage.cache_creation_input_tokens == 0
    clock.advance(301)
    third = ask(client, system=system)
    assert third.usage.cache_creation_input_tokens == 4100
    # The same prefix on Sonnet is another cache.
    assert ask(client, system=system, model="claude-sonnet-4-6").usage.cache_read_input_tokens == 0
    # count_tokens counts what usage splits.
    count = client.messages.count_tokens(
        model="claude-haiku-4-5",
        system=system,  # type: ignore[arg-type]
        messages=[{"role": "user", "content": QUESTION}],
    )
    assert count.input_tokens == 4100 + IN


def test_five_breakpoints_is_a_400_in_anthropic_shape(
    emu: EmulatorServer, client: anthropic.Anthropic
) -> None:
    cc = {"type": "ephemeral"}
    system = [{"type": "text", "text": f"part {i}", "cache_control": cc} for i in range(5)]
    with pytest.raises(anthropic.BadRequestError) as info:
        ask(client, system=system)
    assert info.value.body == {
        "type": "error",
        "error": {
            "type": "invalid_request_error",
            "message": "A maximum of 4 blocks with cache_control may be provided. Found 5.",
        },
        "request_id": info.value.request_id,
    }


@pytest.mark.parametrize(
    ("status", "error_class", "error_type"),
    [
        (429, anthropic.RateLimitError, "rate_limit_error"),
        (529, anthropic.OverloadedError, "overloaded_error"),
        (500, anthropic.InternalServerError, "api_error"),
        (401, anthropic.AuthenticationError, "authentication_error"),
        (404, anthropic.NotFoundError, "not_found_error"),
    ],
)
def test_status_faults_raise_the_sdk_errors(
    emu: EmulatorServer,
    client: anthropic.Anthropic,
    status: int,
    error_class: type[Exception],
    error_type: str,
) -> None:
    emu.faults.push(Fault.status(status, retry_after=2 if status == 429 else None))
    with pytest.raises(error_class) as info:
        ask(client)
    err: Any = info.value
    assert err.status_code == status
    assert err.type == error_type
    assert err.request_id.startswith("req_")
    if status == 429:
        assert err.response.headers["retry-after"] == "2"
        assert err.response.headers["anthropic-ratelimit-requests-remaining"] == "0"
    assert ask(client).content[0].text == ANSWER  # the fault was used up


def test_fault_scoped_to_a_model_and_repeated(
    emu: EmulatorServer, client: anthropic.Anthropic
) -> None:
    emu.faults.push(Fault.status(529), model="claude-haiku", times=2)
    assert ask(client, model="claude-sonnet-4-6").stop_reason == "end_turn"
    for _ in range(2):
        with pytest.raises(anthropic.OverloadedError):
            ask(client)
    assert ask(client).stop_reason == "end_turn"
    assert len(emu.faults) == 0


def test_sdk_retries_honour_retry_after_ms(
    emu: EmulatorServer, client: anthropic.Anthropic
) -> None:
    emu.faults.push(Fault.status(429, retry_after=0.01))
    with sync_client(emu, max_retries=1) as retrying:
        assert ask(retrying).content[0].text == ANSWER  # type: ignore[union-attr]
    assert [r.path for r in emu.requests] == ["/v1/messages", "/v1/messages"]
    assert emu.requests[1].headers["x-stainless-retry-count"] == "1"


def test_connection_reset_is_a_connection_error(
    emu: EmulatorServer, client: anthropic.Anthropic
) -> None:
    emu.faults.push(Fault.reset())
    with pytest.raises(anthropic.APIConnectionError) as info:
        ask(client)
    assert not isinstance(info.value, anthropic.APITimeoutError)
    assert isinstance(info.value.__cause__, httpx2.TransportError)


def test_slow_response_trips_the_client_timeout(
    emu: EmulatorServer, client: anthropic.Anthropic
) -> None:
    emu.faults.push(Fault.slow(2.0))
    with pytest.raises(anthropic.APITimeoutError), sync_client(emu, timeout=0.2) as impatient:
        ask(impatient)


def test_error_event_after_200(emu: EmulatorServer, client: anthropic.Anthropic) -> None:
    emu.faults.push(Fault.error_after_start())
    seen: list[str] = []
    with pytest.raises(anthropic.APIStatusError) as info:
        for event in ask(client, stream=True):  # type: ignore[call-overload]
            seen.append(event.type)
    assert seen == ["message_start", "content_block_start", "content_block_delta"]
    assert info.value.status_code == 200
    assert info.value.body["error"]["type"] == "overloaded_error"  # type: ignore[index]


def test_count_tokens_models_and_request_log(
    emu: EmulatorServer, client: anthropic.Anthropic
) -> None:
    count = client.messages.count_tokens(
        model="claude-haiku-4-5", messages=[{"role": "user", "content": "Hello, world!"}]
    )
    assert count.input_tokens == 4
    ids = [m.id for m in client.models.list().data]
    assert ids[:3] == ["claude-haiku-4-5", "claude-sonnet-4-6", "claude-opus-4-8"]
    client.messages.create(
        model="claude-haiku-4-5",
        max_tokens=5,
        messages=[{"role": "user", "content": "x"}],
        extra_headers={"anthropic-beta": "prompt-caching-2024-07-31"},
    )
    last = emu.requests[-1]
    assert last.path == "/v1/messages"
    assert last.headers["anthropic-beta"] == "prompt-caching-2024-07-31"
    assert last.headers["authorization"] == "Bearer test-key"  # anthropic 2.x sends a bearer
    assert last.json is not None and last.json["max_tokens"] == 5


def test_bad_requests_get_clear_400s(emu: EmulatorServer, client: anthropic.Anthropic) -> None:
    with httpx2.Client(base_url=emu.base_url) as http:
        headers = {"x-api-key": "k", "anthropic-version": "2023-06-01"}
        r = http.post("/v1/messages", headers=headers, json={"model": "m", "messages": []})
        assert r.status_code == 400
        assert r.json()["error"]["message"] == "max_tokens: Field required"
        r = http.post("/v1/messages", headers=headers, content=b"{not json")
        assert r.status_code == 400 and "invalid JSON" in r.json()["error"]["message"]
        r = http.post(
            "/v1/messages",
            headers={"anthropic-version": "2023-06-01"},
            json={"model": "m", "max_tokens": 1, "messages": []},
        )
        assert r.status_code == 401 and r.json()["error"]["type"] == "authentication_error"
        r = http.get("/v1/nothing", headers=headers)
        assert r.status_code == 404 and r.json()["type"] == "error"
