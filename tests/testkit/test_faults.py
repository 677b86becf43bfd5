"""The one fault language: the emulator's queue, the scripted provider, and the same fault
played by both doubles raising the same errors."""

from __future__ import annotations

from asyncio import timeout as asyncio_timeout
from collections.abc import AsyncIterator

import pytest

from gateway.providers.anthropic import AnthropicProvider
from gateway.providers.base import Provider
from gateway.providers.openai import OpenAIProvider
from gateway.types import ModelRequest
from kernel.errors import (
    ProviderConnectionError,
    ProviderError,
    ProviderStatusError,
    StreamInterrupted,
)
from testkit.clock import ManualClock
from testkit.emulator import EmulatorServer, FaultQueue
from testkit.faults import Fault
from testkit.scripted import Reply, ScriptedProvider

REQUEST = ModelRequest(
    model="claude-haiku-4-5", messages=[{"role": "user", "content": "Hi"}], max_tokens=50
)


def test_faults_are_taken_in_order_by_model_prefix() -> None:
    queue = FaultQueue()
    queue.push(Fault.status(529), model="claude-haiku", times=2)
    queue.push(Fault.reset())
    assert len(queue) == 3
    assert queue.take("claude-sonnet-4-6") == Fault.reset()  # the haiku fault does not match
    assert queue.take("claude-sonnet-4-6") is None
    assert queue.take("claude-haiku-4-5") == Fault.status(529)
    assert queue.take("claude-haiku-4-5") == Fault.status(529)
    assert queue.take("claude-haiku-4-5") is None


def test_bad_fault_scripts_fail_loudly() -> None:
    with pytest.raises(ValueError, match="400-599"):
        Fault.status(200)
    with pytest.raises(ValueError, match="seconds"):
        Fault.slow(-1)
    with pytest.raises(ValueError, match="after_events >= 0"):
        Fault.error_after_start(-1)
    with pytest.raises(ValueError, match="times"):
        FaultQueue().push(Fault.reset(), times=0)
    with pytest.raises(ValueError, match="go back"):
        ManualClock().advance(-1)
    with pytest.raises(ValueError, match="max_tokens_param"):
        OpenAIProvider(api_key="k", max_tokens_param="n_predict")


def test_default_messages_per_status() -> None:
    assert Fault.status(529).status_message == "Overloaded"
    assert Fault.status(429, retry_after=1.5).retry_after == 1.5
    assert Fault.status(418).status_message == "HTTP 418"
    assert Fault.status(500, message="custom").status_message == "custom"


@pytest.mark.parametrize("fault", [Fault.hang(), Fault.empty()])
def test_the_emulator_refuses_a_fault_it_cannot_play(fault: Fault) -> None:
    with pytest.raises(ValueError, match="cannot play") as err:
        FaultQueue().push(fault)
    assert fault.kind in str(err.value) and "Fault.slow" in str(err.value)


def test_the_emulator_refuses_an_event_count_it_does_not_honour() -> None:
    queue = FaultQueue()
    with pytest.raises(ValueError, match="without after_events"):
        queue.push(Fault.error_after_start(1))
    assert len(queue) == 0
    queue.push(Fault.error_after_start())
    assert len(queue) == 1


async def _events(provider: Provider) -> list[str]:
    return [e.type async for e in provider.stream(REQUEST)]


async def test_the_scripted_provider_cuts_a_stream_where_the_fault_says() -> None:
    provider = ScriptedProvider("anthropic", Fault.error_after_start(1), Fault.error_after_start())
    seen: list[str] = []
    with pytest.raises(StreamInterrupted, match="Overloaded"):
        async for event in provider.stream(REQUEST):
            seen.append(event.type)
    assert seen == ["message_start"]
    seen.clear()
    with pytest.raises(StreamInterrupted):
        async for event in provider.stream(REQUEST):
            seen.append(event.type)
    assert seen == ["message_start", "content_block_start", "content_block_delta"]


async def test_the_scripted_provider_plays_the_kinds_the_emulator_cannot() -> None:
    clock = ManualClock()
    provider = ScriptedProvider(
        "anthropic",
        Fault.empty(),
        Fault.slow(30),
        Fault.hang(),
        default=Reply("late"),
        sleep=clock.sleep,
    )
    assert await _events(provider) == []
    assert (await provider.complete(REQUEST)).text == "late"  # the default reply, 30 s later
    assert clock.sleeps == [30]
    with pytest.raises(TimeoutError):
        async with asyncio_timeout(0.05):
            await provider.complete(REQUEST)


@pytest.fixture
async def emulated(emu: EmulatorServer) -> AsyncIterator[AnthropicProvider]:
    provider = AnthropicProvider(api_key="test", base_url=emu.base_url, timeout=5)
    yield provider
    await provider.aclose()


@pytest.mark.wire
@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (Fault.status(529, retry_after=3), ProviderStatusError),
        (Fault.status(400), ProviderStatusError),
        (Fault.reset(), ProviderConnectionError),
        (Fault.error_after_start(), StreamInterrupted),
    ],
)
async def test_one_fault_raises_the_same_error_from_both_doubles(
    emu: EmulatorServer,
    emulated: AnthropicProvider,
    fault: Fault,
    error: type[ProviderError],
) -> None:
    emu.faults.push(fault)
    with pytest.raises(error) as over_http:
        await _events(emulated)
    with pytest.raises(error) as scripted:
        await _events(ScriptedProvider("anthropic", fault))
    for exc in (over_http.value, scripted.value):
        assert type(exc) is error and exc.provider == "anthropic"
        assert exc.model == "claude-haiku-4-5"
    if isinstance(over_http.value, ProviderStatusError):
        assert isinstance(scripted.value, ProviderStatusError)
        assert over_http.value.upstream_status == scripted.value.upstream_status
        assert over_http.value.retry_after == scripted.value.retry_after == fault.retry_after
