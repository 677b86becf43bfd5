"""Escalation of judged streams, in the gateway (a weak or broken tier's stream is followed by a
``retract`` event and the next tier's stream) and through the streamed ask, against the wire
emulator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from gateway.ledger import MemoryLedger
from gateway.types import ModelRequest, ModelResponse, Verdict
from kernel.errors import ProviderError
from retrieval.ask_events import Delta, Final, Retract
from retrieval.sparse import SparseEncoder
from testkit.embedders import FakeEmbedder
from testkit.emulator import EmulatorServer
from testkit.faults import Fault
from tests.retrieval.helpers import LEGAL
from tests.retrieval.wire import Downgrade, WireRig, asked_models, corpus_store, wire_gateway

pytestmark = pytest.mark.wire
Q = "How much notice to terminate this Agreement for convenience?"
REQ = ModelRequest(
    model="default", messages=[{"role": "user", "content": "What is clause 7?"}], max_tokens=50
)
HAIKU, SONNET, OPUS = "claude-haiku-4-5", "claude-sonnet-4-6", "claude-opus-4-8"


def weak(_r: ModelResponse) -> Verdict:
    return Verdict(False, "vague")


def uncited(_body: dict[str, Any]) -> str:
    return "Probably ninety days."


@pytest.fixture
async def gw(emu: EmulatorServer) -> AsyncIterator[tuple[Any, MemoryLedger]]:
    ledger = MemoryLedger()
    gateway = wire_gateway(emu, ledger)
    yield gateway, ledger
    await gateway.aclose()


@pytest.fixture
async def rig(
    emu: EmulatorServer,
    tmp_path: Path,
    fake_embedder: FakeEmbedder,
    sparse_encoder: SparseEncoder,
    engine: Any,
) -> AsyncIterator[Any]:
    store = corpus_store("edge", tmp_path, fake_embedder, sparse_encoder)
    rigs: list[WireRig] = []

    def build(**kw: Any) -> WireRig:
        r = WireRig(emu, store, fake_embedder, sparse_encoder, engine, **kw)
        rigs.append(r)
        return r

    yield build
    for r in rigs:
        await r.aclose()
    store.close()


# The gateway ------------------------------------------------------------------------------------
async def _events(stream: Any) -> list[Any]:
    return [e async for e in stream]


async def test_a_judged_weak_stream_is_retracted_and_the_next_tier_streams(
    emu: EmulatorServer, gw: Any
) -> None:
    gateway, ledger = gw
    stream = gateway.stream(REQ, principal=LEGAL, judge=weak, request_id="g1")
    events = await _events(stream)
    retracts = [e for e in events if e.type == "retract"]
    assert [(e.data["tier"], e.data["reason"]) for e in retracts] == [
        (0, "weak answer: vague"),
        (1, "weak answer: vague"),
    ]
    assert asked_models(emu) == [HAIKU, SONNET, OPUS]
    assert stream.result is not None and stream.result.response.model_alias == OPUS
    assert stream.result.final_verdict == Verdict(False, "vague")  # the caller degrades
    request, *attempts = ledger.rows
    assert (request.stream, request.tier, request.escalations) == (True, 2, 2)
    assert [(a.tier, a.outcome) for a in attempts] == [
        (0, "escalated"),
        (1, "escalated"),
        (2, "ok"),
    ]


async def test_the_text_after_a_retract_is_the_next_tiers_answer_alone(
    emu: EmulatorServer, gw: Any
) -> None:
    gateway, _ = gw
    verdicts = iter([Verdict(False, "vague"), Verdict(True, "ok")])
    stream = gateway.stream(REQ, principal=LEGAL, judge=lambda _r: next(verdicts))
    events = await _events(stream)
    cut = next(i for i, e in enumerate(events) if e.type == "retract")
    after = "".join(
        e.data["delta"].get("text", "") for e in events[cut:] if e.type == "content_block_delta"
    )
    assert stream.result is not None and stream.result.response.text == after
    assert stream.result.response.model_alias == SONNET and asked_models(emu) == [HAIKU, SONNET]


async def test_a_stream_broken_mid_way_is_retracted_and_the_next_tier_answers(
    emu: EmulatorServer, gw: Any
) -> None:
    gateway, ledger = gw
    emu.faults.push(Fault.error_after_start(), model=HAIKU)
    stream = gateway.stream(REQ, principal=LEGAL, judge=lambda _r: Verdict(True, "ok"))
    events = await _events(stream)
    (retract,) = [e for e in events if e.type == "retract"]
    assert retract.data["tier"] == 0 and retract.data["reason"].startswith("stream interrupted")
    assert stream.result is not None and stream.result.response.model_alias == SONNET
    assert [a.outcome for a in ledger.attempts()] == ["escalated", "ok"]


async def test_without_a_judge_a_stream_is_never_retracted(emu: EmulatorServer, gw: Any) -> None:
    gateway, _ = gw
    emu.faults.push(Fault.error_after_start(), model=HAIKU)
    stream = gateway.stream(REQ, principal=LEGAL)
    with pytest.raises(ProviderError):
        await _events(stream)
    assert asked_models(emu) == [HAIKU]


async def test_a_downgraded_judged_stream_escalates_on_the_route_it_runs_on(
    emu: EmulatorServer,
) -> None:
    hooks = Downgrade()
    ledger = MemoryLedger()
    gateway = wire_gateway(emu, ledger, hooks)
    try:
        stream = gateway.stream(REQ, principal=LEGAL, judge=weak)
        events = await _events(stream)
    finally:
        await gateway.aclose()
    assert not [e for e in events if e.type == "retract"]  # economy has one tier
    assert asked_models(emu) == [HAIKU]
    assert stream.result is not None and stream.result.route == "economy"
    assert hooks.settled == 1


# The streamed ask ------------------------------------------------------------------------------
async def test_a_weak_stream_goes_on_at_the_next_tier_not_from_tier_0(
    emu: EmulatorServer, rig: Any
) -> None:
    emu.set_responder(HAIKU, uncited)
    r = rig()
    events = [e async for e in r.service.ask_stream(Q, principal=LEGAL, request_id="s1")]
    assert any(isinstance(e, Delta) for e in events)
    retract = next(e for e in events if isinstance(e, Retract))
    assert "no_citation" in retract.reason
    final = events[-1]
    assert isinstance(final, Final) and final.answer.confident
    assert final.answer.model == SONNET and final.answer.tier == 1
    # Haiku was asked once (the stream), then Sonnet: not Haiku again.
    assert r.models() == [HAIKU, SONNET]
    assert [(s.tier, s.model, s.outcome) for s in final.answer.escalations] == [
        (0, HAIKU, "escalated"),
        (1, SONNET, "ok"),
    ]
    (request,) = r.ledger.requests()  # one request: the gateway escalated the stream itself
    assert (request.request_id, request.stream, request.tier) == ("s1", True, 1)
    assert [(a.tier, a.outcome) for a in r.ledger.attempts("s1")] == [(0, "escalated"), (1, "ok")]
    assert final.answer.cost_usd == pytest.approx(request.cost_nano_usd / 1e9)


async def test_a_weak_stream_and_a_weak_second_tier_go_on_to_the_third(
    emu: EmulatorServer, rig: Any
) -> None:
    emu.set_responder(HAIKU, uncited)
    emu.set_responder(SONNET, uncited)
    r = rig()
    events = [e async for e in r.service.ask_stream(Q, principal=LEGAL)]
    final = events[-1]
    assert isinstance(final, Final) and final.answer.model == OPUS and final.answer.tier == 2
    assert r.models() == [HAIKU, SONNET, OPUS]


async def test_a_stream_that_fell_to_tier_1_escalates_to_tier_2(
    emu: EmulatorServer, rig: Any
) -> None:
    emu.faults.push(Fault.status(500), model=HAIKU, times=3)  # every retry of tier 0 fails
    emu.set_responder(SONNET, uncited)
    r = rig()
    events = [e async for e in r.service.ask_stream(Q, principal=LEGAL)]
    final = events[-1]
    assert isinstance(final, Final) and final.answer.model == OPUS
    assert r.models() == [HAIKU] * 3 + [SONNET, OPUS]


async def test_a_weak_stream_on_the_last_tier_degrades_without_asking_again(
    emu: EmulatorServer, rig: Any
) -> None:
    emu.set_responder(HAIKU, uncited)
    r = rig()
    events = [e async for e in r.service.ask_stream(Q, principal=LEGAL, route="economy")]
    assert not any(isinstance(e, Retract) for e in events)
    final = events[-1]
    assert isinstance(final, Final) and final.answer.degraded == "no_confident_answer"
    assert final.answer.review_id and r.models() == [HAIKU]


async def test_a_downgraded_weak_stream_is_not_re_asked(emu: EmulatorServer, rig: Any) -> None:
    emu.set_responder(HAIKU, uncited)
    r = rig(hooks=Downgrade())
    events = [e async for e in r.service.ask_stream(Q, principal=LEGAL)]
    final = events[-1]
    assert isinstance(final, Final) and final.answer.degraded == "no_confident_answer"
    assert r.models() == [HAIKU]  # the economy route it ran on has no next tier
