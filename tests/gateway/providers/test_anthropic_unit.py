"""AnthropicProvider against scripted transports (httpx2.MockTransport): exact parsing rules."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx2
import pytest

from gateway.providers.anthropic import AnthropicProvider
from gateway.providers.wire import parse_retry_after
from gateway.types import ModelRequest
from gateway.usage import CumulativeUsage, usage_from_anthropic
from kernel.errors import ProviderError, ProviderStatusError, StreamInterrupted

REQUEST = ModelRequest(model="claude-haiku-4-5", messages=[{"role": "user", "content": "hi"}])


def sse(*events: tuple[str, dict[str, Any]]) -> bytes:
    return b"".join(f"event: {e}\ndata: {json.dumps(d)}\n\n".encode() for e, d in events)


def provider(handler: Callable[[httpx2.Request], httpx2.Response]) -> AnthropicProvider:
    client = httpx2.AsyncClient(transport=httpx2.MockTransport(handler))
    return AnthropicProvider(api_key="k", base_url="http://upstream.test", http_client=client)


def stream_response(body: bytes) -> Callable[[httpx2.Request], httpx2.Response]:
    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, content=body, headers={"content-type": "text/event-stream"})

    return handler


START = (
    "message_start",
    {
        "type": "message_start",
        "message": {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": "claude-haiku-4-5",
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {
                "input_tokens": 100,
                "cache_read_input_tokens": 50,
                "cache_creation_input_tokens": 0,
                "output_tokens": 1,
            },
        },
    },
)
BLOCK = [
    (
        "content_block_start",
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
    ),
    (
        "content_block_delta",
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "text_delta", "text": "Hello"},
        },
    ),
    ("content_block_stop", {"type": "content_block_stop", "index": 0}),
]
STOP = ("message_stop", {"type": "message_stop"})


def delta(usage: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return (
        "message_delta",
        {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn", "stop_sequence": None},
            "usage": usage,
        },
    )


def test_usage_split_and_fallback() -> None:
    with_split = usage_from_anthropic(
        {
            "input_tokens": 5,
            "output_tokens": 7,
            "cache_creation_input_tokens": 300,
            "cache_read_input_tokens": 40,
            "cache_creation": {"ephemeral_5m_input_tokens": 100, "ephemeral_1h_input_tokens": 200},
        }
    )
    assert (
        with_split.cache_creation_5m_input_tokens,
        with_split.cache_creation_1h_input_tokens,
    ) == (100, 200)
    assert with_split.total_input_tokens == 5 + 300 + 40
    without = usage_from_anthropic(
        {"input_tokens": 5, "output_tokens": 7, "cache_creation_input_tokens": 300}
    )
    assert (without.cache_creation_5m_input_tokens, without.cache_creation_1h_input_tokens) == (
        300,
        0,
    )
    nulls = usage_from_anthropic(
        {
            "input_tokens": 5,
            "output_tokens": 1,
            "cache_creation_input_tokens": None,
            "cache_creation": None,
        }
    )
    assert nulls.cache_creation_input_tokens == 0


def test_stream_usage_takes_the_last_values() -> None:
    acc = CumulativeUsage()
    acc.update({"input_tokens": 100, "cache_read_input_tokens": 50, "output_tokens": 1})
    acc.update({"output_tokens": 20})
    acc.update({"output_tokens": 30, "input_tokens": 100, "cache_read_input_tokens": None})
    u = acc.usage
    assert (u.input_tokens, u.cache_read_input_tokens, u.output_tokens) == (100, 50, 30)


async def test_stream_reemits_merged_cumulative_usage() -> None:
    body = sse(START, *BLOCK, delta({"output_tokens": 12}), delta({"output_tokens": 30}), STOP)
    events = [e async for e in provider(stream_response(body)).stream(REQUEST)]
    last = [e for e in events if e.type == "message_delta"][-1].data["usage"]
    assert last["input_tokens"] == 100
    assert last["cache_read_input_tokens"] == 50
    assert last["output_tokens"] == 30  # never 1 + 12 + 30
    assert last["cache_creation"] == {
        "ephemeral_5m_input_tokens": 0,
        "ephemeral_1h_input_tokens": 0,
    }


async def test_error_event_before_any_other_event() -> None:
    error = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    body = sse(("error", error))
    with pytest.raises(StreamInterrupted) as info:
        [e async for e in provider(stream_response(body)).stream(REQUEST)]
    assert info.value.details == {"type": "overloaded_error", "upstream_message": "Overloaded"}


async def test_stream_without_message_stop_is_interrupted() -> None:
    body = sse(START, *BLOCK, delta({"output_tokens": 3}))
    seen: list[str] = []
    with pytest.raises(StreamInterrupted, match="without message_stop"):
        async for event in provider(stream_response(body)).stream(REQUEST):
            seen.append(event.type)
    assert seen[-1] == "message_delta"


async def test_status_error_with_an_http_date_retry_after() -> None:
    when = datetime.now(UTC) + timedelta(seconds=30)

    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(
            429,
            json={"type": "error", "error": {"type": "rate_limit_error", "message": "slow"}},
            headers={"retry-after": format_datetime(when, usegmt=True), "request-id": "req_9"},
        )

    with pytest.raises(ProviderStatusError) as info:
        await provider(handler).complete(REQUEST)
    err = info.value
    assert err.upstream_status == 429 and err.retryable
    assert err.retry_after is not None and 25 < err.retry_after <= 30
    assert err.details == {"type": "rate_limit_error", "request_id": "req_9"}
    assert "slow" in err.message


def test_retry_after_forms() -> None:
    assert parse_retry_after({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5
    assert parse_retry_after({"retry-after": "2"}) == 2.0
    assert parse_retry_after({"retry-after": "0.5"}) == 0.5
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({}) is None
    assert parse_retry_after(None) is None


async def test_non_json_body_is_a_retryable_provider_error() -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(
            200, content=b"<html>proxy</html>", headers={"content-type": "application/json"}
        )

    with pytest.raises(ProviderError) as info:
        await provider(handler).complete(REQUEST)
    assert info.value.retryable and "invalid JSON" in info.value.message


async def test_injected_client_carries_headers_and_body() -> None:
    seen: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        return httpx2.Response(
            200,
            json={
                "id": "msg_x",
                "type": "message",
                "role": "assistant",
                "model": "claude-haiku-4-5",
                "content": [{"type": "text", "text": "ok"}],
                "stop_reason": "end_turn",
                "stop_sequence": None,
                "usage": {"input_tokens": 3, "output_tokens": 1},
            },
        )

    request = REQUEST.model_copy(
        update={"extra_headers": {"anthropic-beta": "b1,b2"}, "temperature": 0.0}
    )
    response = await provider(handler).complete(request)
    assert response.text == "ok" and response.usage.input_tokens == 3
    sent = seen[0]
    assert str(sent.url) == "http://upstream.test/v1/messages"
    assert sent.headers["anthropic-beta"] == "b1,b2"
    assert json.loads(sent.content)["temperature"] == 0.0


async def test_large_max_tokens_is_not_refused_by_the_sdk() -> None:
    """The SDK refuses non-streaming calls it expects to pass 10 minutes unless a timeout is
    set; the provider always sets one, so the upstream (not the SDK) decides."""
    sent: list[int] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        sent.append(json.loads(request.content)["max_tokens"])
        return httpx2.Response(
            400,
            json={
                "type": "error",
                "error": {"type": "invalid_request_error", "message": "max_tokens: too large"},
            },
        )

    big = REQUEST.model_copy(update={"max_tokens": 1_000_000})
    with pytest.raises(ProviderStatusError, match="too large") as info:
        await provider(handler).complete(big)
    assert sent == [1_000_000] and not info.value.retryable


def test_a_pass_through_answer_is_the_model_validation_would_make() -> None:
    """Well-formed answers are built without validating them again; anything else still gets
    validation's own error."""
    import orjson
    from pydantic import ValidationError

    from gateway.providers.anthropic_passthrough import response_of
    from gateway.types import ModelResponse, Usage, WireBytes

    request = ModelRequest(model="claude-haiku-4-5", messages=[{"role": "user", "content": "hi"}])
    data: dict[str, Any] = {
        "id": "msg_1",
        "model": "claude-haiku-4-5-20251001",
        "content": [{"type": "text", "text": "pong"}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 3, "output_tokens": 1, "cache_read_input_tokens": 2},
    }
    raw = orjson.dumps(data)
    got = response_of(data, raw, request, "anthropic")
    validated = ModelResponse(
        id="msg_1",
        provider="anthropic",
        model_alias="claude-haiku-4-5",
        model_id="claude-haiku-4-5-20251001",
        content=[{"type": "text", "text": "pong"}],
        stop_reason="end_turn",
        stop_sequence=None,
        usage=usage_from_anthropic(data["usage"]),
    ).with_raw(WireBytes("anthropic", raw))
    assert got == validated and got.model_fields_set == validated.model_fields_set
    assert got.usage == Usage(input_tokens=3, output_tokens=1, cache_read_input_tokens=2)
    assert got.usage.total_input_tokens == 5
    assert got.raw is not None and got.raw.raw == raw
    for bad in ({"content": ["pong"]}, {"stop_reason": 3}):
        with pytest.raises(ValidationError):
            response_of({**data, **bad}, raw, request, "anthropic")
