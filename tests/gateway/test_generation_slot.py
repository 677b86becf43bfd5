"""The local model's one generation slot and the bounded queue in front of it: waiting is not
failing, a full queue answers 429 with retry-after at once, and neither opens the circuit."""

from __future__ import annotations

import asyncio

import pytest

from gateway.config import BreakerPolicy, TierSpec, load_config
from gateway.providers.generation_slot import GenerationSlot
from gateway.resilience.breaker import Breakers
from gateway.resilience.tier import Candidate, Tier, TierPlan
from gateway.resilience.trace import Trace
from gateway.types import ModelRequest, ModelResponse
from kernel.errors import ProviderBusy
from testkit.clock import ManualClock
from testkit.scripted import Reply, ScriptedProvider

REQ = ModelRequest(model="local", messages=[{"role": "user", "content": "q"}])


class SlowModel:
    """A model that holds the slot for ``seconds`` per call (real time), counting overlap."""

    name = "local"

    def __init__(self, slot: GenerationSlot, seconds: float) -> None:
        self.slot, self.seconds = slot, seconds
        self.running = self.most = self.served = 0

    async def complete(self, request: ModelRequest) -> ModelResponse:
        async with self.slot.held(request.model):
            self.running += 1
            self.most = max(self.most, self.running)
            await asyncio.sleep(self.seconds)
            self.running -= 1
            self.served += 1
        return await ScriptedProvider("local", Reply("ok")).complete(request)

    async def stream(self, request: ModelRequest):  # type: ignore[no-untyped-def]
        raise NotImplementedError
        yield

    async def count_tokens(self, request: ModelRequest) -> int:
        return 1


async def test_requests_wait_their_turn_one_generation_at_a_time() -> None:
    model = SlowModel(GenerationSlot(provider="local", max_waiting=8), 0.02)
    await asyncio.gather(*(model.complete(REQ) for _ in range(6)))
    assert (model.served, model.most) == (6, 1)


async def test_a_full_queue_is_refused_at_once_with_retry_after() -> None:
    slot = GenerationSlot(provider="local", max_waiting=2)
    model = SlowModel(slot, 0.2)
    results = await asyncio.gather(*(model.complete(REQ) for _ in range(5)), return_exceptions=True)
    busy = [r for r in results if isinstance(r, ProviderBusy)]
    assert len(busy) == 2 and model.served == 3  # one generating, two waiting, two refused
    assert busy[0].status == 429 and busy[0].retry_after >= 1 and not busy[0].retryable
    assert "2 requests already wait" in busy[0].message


async def test_a_wait_past_the_deadline_is_busy_not_failed() -> None:
    model = SlowModel(GenerationSlot(provider="local", max_waiting=4, max_wait_s=0.05), 0.3)
    first = asyncio.ensure_future(model.complete(REQ))
    await asyncio.sleep(0.01)
    with pytest.raises(ProviderBusy, match=r"waited 0\.05 s"):
        await model.complete(REQ)
    await first


async def test_load_never_opens_the_circuit() -> None:
    """Through a route's tier, as every call goes: busy refusals are not the model's failures
    (and not retried: the caller gets the 429 with its retry-after)."""
    clock = ManualClock()
    breakers = Breakers(BreakerPolicy(fail_max=2, reset_timeout_s=30), clock)
    model = SlowModel(GenerationSlot(provider="local", max_waiting=1), 0.05)
    spec = load_config().models["local"]
    tier = TierSpec(model="local", attempt_timeout_s=5, total_timeout_s=10)
    plan = TierPlan(0, tier, (Candidate(spec, model),), ())  # type: ignore[arg-type]

    def local_tier() -> Tier:
        return Tier(
            plan, Trace(clock), label="local", breakers=breakers, clock=clock, sleep=asyncio.sleep
        )

    results = await asyncio.gather(
        *(local_tier().complete(REQ) for _ in range(8)), return_exceptions=True
    )
    assert sum(isinstance(r, ProviderBusy) for r in results) == 6
    assert breakers.states() == {"local/local": "closed"}
    assert (await local_tier().complete(REQ)).text == "ok"


def test_a_bad_queue_setting_is_refused() -> None:
    with pytest.raises(ValueError, match="max_waiting"):
        GenerationSlot(provider="local", max_waiting=-1)


class Busy(ScriptedProvider):
    async def complete(self, request: ModelRequest) -> ModelResponse:
        raise ProviderBusy("local: 8 requests already wait", retry_after=12, provider="local")


def test_a_busy_local_model_is_a_429_with_retry_after_on_the_messages_api() -> None:
    from fastapi.testclient import TestClient

    from gateway.hooks import NoGovernance
    from gateway.ledger import NullLedger
    from tests.gateway.rig import gateway_app
    from tests.graphs import rig_graph

    graph = rig_graph({"local": Busy("local")}, hooks=NoGovernance(), ledger=NullLedger())
    gw = graph.gateway
    body = {"model": "local", "max_tokens": 8, "messages": [{"role": "user", "content": "hi"}]}
    with TestClient(gateway_app(gw)) as client:
        r = client.post("/v1/messages", json=body)
    assert r.status_code == 429 and r.headers["retry-after"] == "12"
    assert r.json()["error"]["code"] == "provider_busy"
