"""Starting a route at a given tier (``Gateway.invoke/stream(start_tier=...)``), and the streamed
ask that escalates from the tier after the one that streamed, against the wire emulator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from gateway.ledger import MemoryLedger
from gateway.types import ModelRequest, ModelResponse, Verdict
from kernel.errors import InvalidRequest, ProviderError
from retrieval.answer_stream import Delta, Final, Retract, ask_stream
from retrieval.sparse import SparseEncoder
from testkit.embedders import FakeEmbedder
from testkit.emulator import EmulatorServer, Fault
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
async def test_invoke_from_tier_1_skips_tier_0_and_the_ledger_keeps_the_real_tiers(
    emu: EmulatorServer, gw: Any
) -> None:
    gateway, ledger = gw
    result = await gateway.invoke(REQ, principal=LEGAL, start_tier=1, request_id="r1")
    assert asked_models(emu) == [SONNET]
    assert [(a.tier, a.model_alias, a.outcome) for a in result.attempts] == [(1, SONNET, "ok")]
    request, attempt = ledger.rows
    assert (request.kind, request.tier, request.model_alias, request.escalations) == (
        "request",
        1,
        SONNET,
        0,
    )
    assert (request.route, request.requested_route, request.outcome) == ("default", "default", "ok")
    assert (attempt.step, attempt.tier, attempt.model_alias) == (1, 1, SONNET)
    assert request.cost_nano_usd == attempt.cost_nano_usd > 0


async def test_invoke_from_tier_1_still_escalates_to_the_last_tier(
    emu: EmulatorServer, gw: Any
) -> None:
    gateway, ledger = gw
    result = await gateway.invoke(REQ, principal=LEGAL, judge=weak, start_tier=1)
    assert asked_models(emu) == [SONNET, OPUS]
    assert [(a.tier, a.outcome) for a in result.attempts] == [(1, "escalated"), (2, "ok")]
    assert result.final_verdict == Verdict(False, "vague")
    request, *attempts = ledger.rows
    assert (request.tier, request.escalations) == (2, 1)
    assert [(r.step, r.tier, r.outcome) for r in attempts] == [(1, 1, "escalated"), (2, 2, "ok")]


async def test_a_failing_last_start_tier_raises_and_is_recorded(
    emu: EmulatorServer, gw: Any
) -> None:
    gateway, ledger = gw
    emu.faults.push(Fault.status(500), model=OPUS, times=10)
    with pytest.raises(ProviderError):
        await gateway.invoke(REQ, principal=LEGAL, start_tier=2)
    assert set(asked_models(emu)) == {OPUS}
    request = ledger.requests()[0]
    assert (request.outcome, request.tier) == ("error", None)
    assert {r.tier for r in ledger.attempts()} == {2}


@pytest.mark.parametrize("bad", [3, 7, -1, True])
async def test_a_start_tier_out_of_range_is_refused_before_anything_runs(
    emu: EmulatorServer, gw: Any, bad: int
) -> None:
    gateway, ledger = gw
    with pytest.raises(InvalidRequest) as err:
        await gateway.invoke(REQ, principal=LEGAL, start_tier=bad)
    assert repr(bad) in err.value.message or str(bad) in err.value.message
    assert err.value.details["start_tier"] == bad
    assert asked_models(emu) == [] and ledger.rows == []


async def test_a_model_alias_has_only_tier_0(gw: Any) -> None:
    gateway, _ = gw
    with pytest.raises(InvalidRequest, match=r"start_tier 1 is out of range.*1 tier"):
        await gateway.invoke(REQ, principal=LEGAL, route=OPUS, start_tier=1)


async def test_a_stream_from_tier_2_is_answered_by_opus(emu: EmulatorServer, gw: Any) -> None:
    gateway, ledger = gw
    stream = gateway.stream(REQ, principal=LEGAL, start_tier=2)
    events = [e async for e in stream]
    assert events and stream.result is not None
    assert stream.result.response.model_alias == OPUS
    assert asked_models(emu) == [OPUS]
    request = ledger.requests()[0]
    assert (request.stream, request.tier, request.model_alias) == (True, 2, OPUS)


async def test_a_bad_stream_start_tier_raises_at_the_first_event(gw: Any) -> None:
    gateway, ledger = gw
    stream = gateway.stream(REQ, principal=LEGAL, start_tier=5)
    with pytest.raises(InvalidRequest, match="start_tier 5"):
        await stream.__anext__()
    assert ledger.rows == []


async def test_a_downgraded_request_starts_at_most_at_the_economy_routes_last_tier(
    emu: EmulatorServer,
) -> None:
    hooks = Downgrade()
    ledger = MemoryLedger()
    gateway = wire_gateway(emu, ledger, hooks)
    try:
        result = await gateway.invoke(REQ, principal=LEGAL, start_tier=2)
    finally:
        await gateway.aclose()
    assert asked_models(emu) == [HAIKU]  # economy has one tier: tier 0
    assert result.route == "economy" and result.requested_route == "default"
    request, attempt = ledger.rows
    assert (request.route, request.requested_route, request.tier) == ("economy", "default", 0)
    assert attempt.tier == 0 and hooks.settled == 1


# The streamed ask ------------------------------------------------------------------------------
async def test_a_weak_stream_is_re_asked_from_the_next_tier_not_from_tier_0(
    emu: EmulatorServer, rig: Any
) -> None:
    emu.set_responder(HAIKU, uncited)
    r = rig()
    events = [e async for e in ask_stream(r.service, Q, principal=LEGAL, request_id="s1")]
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
    streamed, escalated = r.ledger.requests()
    assert (streamed.request_id, streamed.stream, streamed.tier) == ("s1", True, 0)
    assert (escalated.request_id, escalated.stream, escalated.tier) == ("s1-escalated", False, 1)
    assert [a.tier for a in r.ledger.attempts("s1-escalated")] == [1]
    total = streamed.cost_nano_usd + escalated.cost_nano_usd
    assert final.answer.cost_usd == pytest.approx(total / 1e9)


async def test_a_weak_stream_and_a_weak_second_tier_go_on_to_the_third(
    emu: EmulatorServer, rig: Any
) -> None:
    emu.set_responder(HAIKU, uncited)
    emu.set_responder(SONNET, uncited)
    r = rig()
    events = [e async for e in ask_stream(r.service, Q, principal=LEGAL)]
    final = events[-1]
    assert isinstance(final, Final) and final.answer.model == OPUS and final.answer.tier == 2
    assert r.models() == [HAIKU, SONNET, OPUS]


async def test_a_stream_that_fell_to_tier_1_escalates_to_tier_2(
    emu: EmulatorServer, rig: Any
) -> None:
    emu.faults.push(Fault.status(500), model=HAIKU, times=3)  # every retry of tier 0 fails
    emu.set_responder(SONNET, uncited)
    r = rig()
    events = [e async for e in ask_stream(r.service, Q, principal=LEGAL)]
    final = events[-1]
    assert isinstance(final, Final) and final.answer.model == OPUS
    assert r.models() == [HAIKU] * 3 + [SONNET, OPUS]


async def test_a_weak_stream_on_the_last_tier_degrades_without_asking_again(
    emu: EmulatorServer, rig: Any
) -> None:
    emu.set_responder(HAIKU, uncited)
    r = rig()
    events = [e async for e in ask_stream(r.service, Q, principal=LEGAL, route="economy")]
    assert not any(isinstance(e, Retract) for e in events)
    final = events[-1]
    assert isinstance(final, Final) and final.answer.degraded == "no_confident_answer"
    assert final.answer.review_id and r.models() == [HAIKU]


async def test_a_downgraded_weak_stream_is_not_re_asked(emu: EmulatorServer, rig: Any) -> None:
    emu.set_responder(HAIKU, uncited)
    r = rig(hooks=Downgrade())
    events = [e async for e in ask_stream(r.service, Q, principal=LEGAL)]
    final = events[-1]
    assert isinstance(final, Final) and final.answer.degraded == "no_confident_answer"
    assert r.models() == [HAIKU]  # the economy route it ran on has no next tier
