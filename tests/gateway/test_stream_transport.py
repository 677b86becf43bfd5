"""The pass-through path's transport details: the per-event limit of a committed stream (one
watchdog timer per stream) and the proxy read once from the environment."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from gateway.resilience.timeout import AttemptTimeout
from gateway.types import ModelRequest, ModelResponse, StreamEvent
from kernel.errors import ProviderTimeout

DELTA = StreamEvent(type="content_block_delta", data={"index": 0, "delta": {"text": "x"}})


class Upstream:
    """Sends ``n`` deltas ``gap`` seconds apart, then hangs (``hang``) or ends."""

    name = "fake"

    def __init__(self, n: int, gap: float, hang: bool) -> None:
        self.n, self.gap, self.hang = n, gap, hang

    async def complete(self, request: ModelRequest) -> ModelResponse:
        raise NotImplementedError

    async def stream(self, request: ModelRequest) -> AsyncIterator[StreamEvent]:
        yield StreamEvent(type="message_start", data={"message": {}})
        for _ in range(self.n):
            await asyncio.sleep(self.gap)
            yield DELTA
        if self.hang:
            await asyncio.sleep(3600)
        yield StreamEvent(type="message_stop", data={})

    async def count_tokens(self, request: ModelRequest) -> int:
        return 0


def limited(upstream: Upstream) -> AttemptTimeout:
    return AttemptTimeout(upstream, 0.05, provider="fake", model="m")


REQUEST = ModelRequest(model="m", messages=[{"role": "user", "content": "hi"}])


async def test_an_upstream_that_stalls_mid_stream_times_out() -> None:
    seen: list[str] = []
    with pytest.raises(ProviderTimeout, match=r"no stream event within 0\.05s"):
        async for event in limited(Upstream(5, 0.01, hang=True)).stream(REQUEST):
            seen.append(event.type)
    assert seen == ["message_start"] + ["content_block_delta"] * 5


async def test_a_slow_consumer_or_steady_upstream_never_times_out() -> None:
    events = []
    async for event in limited(Upstream(8, 0.03, hang=False)).stream(REQUEST):
        events.append(event.type)
        await asyncio.sleep(0.08)  # the client is slower than the limit: not the upstream's wait
    assert events[-1] == "message_stop" and len(events) == 10


async def test_a_cancellation_from_outside_stays_a_cancellation() -> None:
    async def consume() -> None:
        async for _ in limited(Upstream(3, 0.01, hang=True)).stream(REQUEST):
            pass

    task = asyncio.create_task(consume())
    await asyncio.sleep(0.035)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def test_the_pass_through_pool_takes_its_proxy_from_the_environment_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from gateway.providers.passthrough import env_proxy

    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")
    assert env_proxy("https://api.anthropic.com") == "http://proxy.internal:3128"
    assert env_proxy("http://127.0.0.1:8000") is None
