"""Retry, timeout, circuit breaker and fallback, driven by scripted faults and a fake clock."""

from __future__ import annotations

import pytest

from gateway.types import ModelRequest, StreamEvent
from kernel.errors import (
    AllProvidersFailed,
    ProviderStatusError,
    StreamInterrupted,
)
from kernel.principal import LOCAL_OPERATOR
from testkit.faults import Fault
from testkit.scripted import Reply
from tests.gateway.rig import GPT, HAIKU, LOCAL, Rig


def ask(route: str = "fast") -> ModelRequest:
    return ModelRequest(model=route, messages=[{"role": "user", "content": "hello"}])


async def invoke(rig: Rig, route: str = "fast"):  # type: ignore[no-untyped-def]
    return await rig.gateway.invoke(ask(route), principal=LOCAL_OPERATOR)


def outcomes(result) -> list[tuple[str, str, str | None, int]]:  # type: ignore[no-untyped-def]
    return [(a.model_alias, a.outcome, a.error_class, a.retries) for a in result.attempts]


async def test_429_waits_the_retry_after_then_succeeds(fast: Rig) -> None:
    fast.anthropic.push(Fault.status(429, retry_after=7), Reply("hi"), model=HAIKU)
    result = await invoke(fast)
    assert result.response.text == "hi"
    assert fast.clock.sleeps == [7.0]
    assert outcomes(result) == [("claude-haiku-4-5", "ok", None, 1)]


@pytest.mark.parametrize(
    "fault", [Fault.status(529), Fault.status(500), Fault.status(503), Fault.reset(), Fault.hang()]
)
async def test_transient_faults_are_retried_with_backoff(fast: Rig, fault: Fault) -> None:
    fast.anthropic.push(fault, fault, Reply("third time"), model=HAIKU)
    result = await invoke(fast)
    assert result.response.text == "third time"
    assert fast.clock.sleeps == [0.5, 1.0]  # exponential backoff from 0.5 s
    assert len(fast.anthropic.calls_for(HAIKU)) == 3


@pytest.mark.parametrize("status", [401, 403, 404])
async def test_auth_and_not_found_are_not_retried_but_fall_back(fast: Rig, status: int) -> None:
    fast.anthropic.push(Fault.status(status), model=HAIKU)
    result = await invoke(fast)
    assert fast.clock.sleeps == []
    assert len(fast.anthropic.calls_for(HAIKU)) == 1
    assert outcomes(result) == [
        ("claude-haiku-4-5", "fallback", f"upstream_status_{status}", 0),
        ("gpt-5.5", "ok", None, 0),
    ]


async def test_400_is_the_clients_fault_no_retry_no_fallback(fast: Rig) -> None:
    fast.anthropic.push(Fault.status(400, message="messages: roles must alternate"), model=HAIKU)
    with pytest.raises(ProviderStatusError) as err:
        await invoke(fast)
    assert err.value.status == 400 and "alternate" in err.value.message
    assert fast.openai.calls == [] and fast.local.calls == []
    row = fast.ledger.requests()[0]
    assert (row.outcome, row.error_class) == ("error", "upstream_status_400")


async def test_exhausted_retries_fall_back_to_the_next_model(fast: Rig) -> None:
    fast.anthropic.push(*[Fault.status(500)] * 3, model=HAIKU)
    fast.openai.push(Reply("from gpt"))
    result = await invoke(fast)
    assert result.response.text == "from gpt" and result.response.model_alias == "gpt-5.5"
    assert outcomes(result) == [
        ("claude-haiku-4-5", "fallback", "upstream_status_500", 2),
        ("gpt-5.5", "ok", None, 0),
    ]
    assert result.retries == 2 and len(result.fallbacks) == 1


async def test_a_retry_after_longer_than_allowed_falls_back_at_once(fast: Rig) -> None:
    fast.anthropic.push(Fault.status(429, retry_after=600), model=HAIKU)
    result = await invoke(fast)
    assert fast.clock.sleeps == []
    assert result.response.model_alias == "gpt-5.5"


async def test_everything_failing_is_a_clear_error_naming_each_model(fast: Rig) -> None:
    fast.anthropic.push(*[Fault.status(529)] * 3, model=HAIKU)
    fast.openai.push(*[Fault.reset()] * 3)
    fast.local.push(*[Fault.hang()] * 3)
    fast.anthropic.push(Fault.status(401), model="claude-sonnet-4-6")
    fast.anthropic.push(Fault.status(401), model="claude-opus-4-8")
    with pytest.raises(AllProvidersFailed) as err:
        await invoke(fast)
    assert err.value.status == 503
    assert [(a["model"], a["code"]) for a in err.value.details["attempts"]] == [
        (HAIKU, "upstream_status"),
        (GPT, "upstream_connection"),
        (LOCAL, "upstream_timeout"),
        ("claude-sonnet-4-6", "upstream_status"),
        (LOCAL, "circuit_open"),  # three hangs opened the local model's circuit
        ("claude-opus-4-8", "upstream_status"),
    ]
    request, *attempts = fast.ledger.rows
    assert (request.outcome, request.error_class) == ("error", "all_providers_failed")
    assert [a.outcome for a in attempts] == [
        "fallback",
        "fallback",
        "escalated",
        "fallback",
        "escalated",
        "error",
    ]


async def test_the_circuit_opens_after_repeated_failures_and_half_opens_later(fast: Rig) -> None:
    fast.anthropic.push(*[Fault.status(500)] * 3, model=HAIKU)  # 3 failures = fail_max
    await invoke(fast)
    assert fast.catalogue.breaker_states()["anthropic/claude-haiku-4-5"] == "open"
    calls = len(fast.anthropic.calls_for(HAIKU))
    result = await invoke(fast)  # haiku skipped without a call
    assert len(fast.anthropic.calls_for(HAIKU)) == calls
    assert outcomes(result)[0] == ("claude-haiku-4-5", "fallback", "circuit_open", 0)
    fast.clock.advance(31)  # past reset_timeout_s
    fast.anthropic.push(Reply("back"), model=HAIKU)
    result = await invoke(fast)
    assert result.response.text == "back"
    assert fast.catalogue.breaker_states()["anthropic/claude-haiku-4-5"] == "closed"


async def test_client_faults_do_not_open_the_circuit(fast: Rig) -> None:
    for _ in range(5):
        fast.anthropic.push(Fault.status(400), model=HAIKU)
        with pytest.raises(ProviderStatusError):
            await invoke(fast)
    assert fast.catalogue.breaker_states()["anthropic/claude-haiku-4-5"] == "closed"


async def collect(rig: Rig, route: str = "fast") -> tuple[list[StreamEvent], object]:
    stream = rig.gateway.stream(ask(route), principal=LOCAL_OPERATOR)
    events = [e async for e in stream]
    return events, stream.result


async def test_stream_error_before_content_is_retried(fast: Rig) -> None:
    fast.anthropic.push(Fault.error_after_start(1), Reply("streamed"), model=HAIKU)  # after 200
    events, result = await collect(fast)
    assert [e.type for e in events] == [
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    assert result.response.text == "streamed"  # type: ignore[attr-defined]
    assert result.attempts[0].retries == 1  # type: ignore[attr-defined]


async def test_stream_error_after_content_is_a_failure_not_a_silent_success(fast: Rig) -> None:
    fast.anthropic.push(Fault.error_after_start(3), model=HAIKU)  # start, block start, one delta
    stream = fast.gateway.stream(ask(), principal=LOCAL_OPERATOR)
    seen: list[str] = []
    with pytest.raises(StreamInterrupted):
        async for event in stream:
            seen.append(event.type)
    assert seen == ["message_start", "content_block_start", "content_block_delta"]
    assert stream.result is None
    assert fast.openai.calls == []  # no fallback after the first content byte
    request, attempt = fast.ledger.rows
    assert (request.outcome, request.error_class, request.stream) == ("error", "stream_error", True)
    assert (attempt.outcome, attempt.input_tokens) == ("error", 10)  # usage seen so far


async def test_an_empty_stream_falls_back(fast: Rig) -> None:
    fast.anthropic.push(*[Fault.empty()] * 3, model=HAIKU)
    fast.openai.push(Reply("gpt streamed"))
    _events, result = await collect(fast)
    assert result.response.text == "gpt streamed"  # type: ignore[attr-defined]
    assert result.response.model_alias == "gpt-5.5"  # type: ignore[attr-defined]


async def test_total_timeout_bounds_a_tier(write_config, config) -> None:  # type: ignore[no-untyped-def]
    from gateway.config import load_config

    rig = Rig(
        load_config(
            write_config("""
[routes.slow]
[[routes.slow.tiers]]
model = "claude-haiku-4-5"
fallbacks = ["local"]
attempt_timeout_s = 0.05
total_timeout_s = 0.08
retry = { max_attempts = 10, initial_backoff_s = 0 }
""")
        )
    )
    rig.anthropic.push(*[Fault.hang()] * 10, model=HAIKU)
    with pytest.raises(AllProvidersFailed) as err:
        await invoke(rig, "slow")
    attempts = err.value.details["attempts"]
    assert attempts[0]["code"] == "upstream_timeout" and attempts[0]["model"] == HAIKU
    assert "total 0.08s ran out" in attempts[-1]["message"]
    assert len(rig.anthropic.calls_for(HAIKU)) < 10  # the deadline cut the retries short
    assert rig.local.calls_for(LOCAL) == []  # and left no time for the fallback
