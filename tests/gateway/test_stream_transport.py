"""The pass-through path's transport details: the per-event limit of a committed stream (one
watchdog timer per stream), the attempt's circuit in the same generator, and the proxy read
once from the environment."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from gateway.config import BreakerPolicy
from gateway.resilience.breaker import Circuit
from gateway.resilience.timeout import AttemptTimeout
from gateway.types import ModelRequest, ModelResponse, StreamEvent
from kernel.clock import SystemClock
from kernel.errors import CircuitOpen, ProviderTimeout

DELTA = StreamEvent(type="content_block_delta", data={"index": 0, "delta": {"text": "x"}})


class Upstream:
    """Sends ``n`` deltas ``gap`` seconds apart, then hangs (``hang``) or ends."""

    name = "fake"

    def __init__(self, n: int, gap: float, hang: bool) -> None:
        self.n, self.gap, self.hang = n, gap, hang
        self.calls = 0

    async def complete(self, request: ModelRequest) -> ModelResponse:
        raise NotImplementedError

    async def stream(self, request: ModelRequest) -> AsyncIterator[StreamEvent]:
        self.calls += 1
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


async def test_the_attempts_circuit_opens_on_its_failures_and_then_refuses_before_calling() -> None:
    circuit = Circuit(BreakerPolicy(fail_max=2, reset_timeout_s=60), SystemClock())
    stalls = Upstream(1, 0.0, hang=True)
    guarded = AttemptTimeout(stalls, 0.05, provider="fake", model="m", circuit=circuit)
    for _ in range(2):
        with pytest.raises(ProviderTimeout):
            async for _ in guarded.stream(REQUEST):
                pass
    assert circuit.state == "open" and stalls.calls == 2
    with pytest.raises(CircuitOpen):
        async for _ in guarded.stream(REQUEST):
            pass
    assert stalls.calls == 2  # refused before the upstream was asked


async def test_a_stream_that_ends_or_that_its_caller_closes_is_no_failure_of_the_model() -> None:
    circuit = Circuit(BreakerPolicy(fail_max=1, reset_timeout_s=60), SystemClock())
    guarded = AttemptTimeout(
        Upstream(3, 0.0, hang=False), 0.05, provider="fake", model="m", circuit=circuit
    )
    assert [e.type async for e in guarded.stream(REQUEST)][-1] == "message_stop"
    stream = guarded.stream(REQUEST)
    assert (await stream.__anext__()).type == "message_start"
    await stream.aclose()  # type: ignore[attr-defined]
    assert circuit.state == "closed"
    assert len([e async for e in guarded.stream(REQUEST)]) == 5  # still admitted


def test_the_pass_through_pool_takes_its_proxy_from_the_environment_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from gateway.providers.passthrough import env_proxy

    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")
    assert env_proxy("https://api.anthropic.com") == "http://proxy.internal:3128"
    assert env_proxy("http://127.0.0.1:8000") is None


def sse(event: str, data: dict[str, object]) -> bytes:
    import json

    return f"event: {event}\ndata: {json.dumps(data)}\n\n".encode()


async def test_frames_that_arrive_together_go_out_in_one_write_and_all_in_order() -> None:
    from aiohttp import web

    from gateway.providers.anthropic_passthrough import anthropic_pool, stream
    from gateway.types import WireBody

    first = [
        sse("message_start", {"type": "message_start", "message": {"usage": {"input_tokens": 3}}}),
        sse("content_block_start", {"type": "content_block_start", "index": 0}),
        sse("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {}}),
    ]
    second = [
        sse("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {}}),
        sse("unknown_kind", {"type": "unknown_kind"}),  # not relayed, and takes nothing along
        sse("content_block_stop", {"type": "content_block_stop", "index": 0}),
        sse("message_stop", {"type": "message_stop"}),
    ]

    async def messages(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await response.prepare(request)
        await response.write(b"".join(first))
        await asyncio.sleep(0.05)  # the second burst arrives apart from the first
        await response.write(b"".join(second))
        await response.write_eof()
        return response

    app = web.Application()
    app.router.add_post("/v1/messages", messages)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    pool = anthropic_pool("k", f"http://127.0.0.1:{port}", 5.0, "anthropic")
    body = b'{"model":"m","max_tokens":5,"messages":[],"stream":true}'
    request = ModelRequest(model="m", messages=[], max_tokens=5).with_wire(
        WireBody("anthropic", body, {"model": "m", "max_tokens": 5, "stream": True})
    )
    try:
        events = [e async for e in stream(pool, request)]
    finally:
        await pool.aclose()
        await runner.cleanup()
    assert [e.type for e in events] == [
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "message_stop",
    ]
    writes = [e.raw.raw for e in events if e.raw is not None and e.raw.raw]
    assert writes == [b"".join(first), second[0] + second[2] + second[3]]
