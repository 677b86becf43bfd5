"""The extractive tier in routes: with no paid model reachable every route runs the offline
route (extractive, then the local model); with keys the free-first route asks it first; an
answer under the model's confidence floor escalates, and on the last tier is weak."""

from __future__ import annotations

from gateway.config import load_config
from gateway.hooks import NoGovernance
from gateway.ledger import MemoryLedger
from gateway.service import Gateway
from gateway.types import ModelRequest, Verdict
from kernel.principal import Principal
from testkit.clock import ManualClock
from testkit.scripted import Reply, ScriptedProvider
from tests.graphs import rig_graph

ALICE = Principal(user_id="alice", department="legal")
REQ = ModelRequest(model="default", messages=[{"role": "user", "content": "q"}], max_tokens=64)
FLOOR = load_config().models["extractive"].min_confidence


def gateway(**providers: ScriptedProvider | None) -> tuple[Gateway, MemoryLedger]:
    """The app's gateway on exactly ``providers``, no governance, a memory ledger."""
    clock = ManualClock(follows_real_time=True)
    ledger = MemoryLedger()
    graph = rig_graph(
        dict(providers), clock=clock, sleep=clock.sleep, ledger=ledger, hooks=NoGovernance()
    )
    return graph.gateway, ledger


def ok(_response: object) -> Verdict:
    return Verdict(True, "ok")


async def test_no_keys_a_confident_extract_answers_at_no_cost() -> None:
    extractive, local = ScriptedProvider("extractive"), ScriptedProvider("local")
    extractive.push(Reply("The cap is the fees paid. [1]", confidence=0.8))
    gw, ledger = gateway(extractive=extractive, local=local)
    result = await gw.invoke(REQ, principal=ALICE, judge=ok)
    assert (result.route, result.requested_route) == ("offline", "default")
    assert result.response.text == "The cap is the fees paid. [1]" and local.calls == []
    assert result.cost_nano_usd == 0 and result.final_verdict == Verdict(True, "ok")
    assert [r.model_alias for r in ledger.attempts()] == ["extractive"]


async def test_no_keys_an_unsure_extract_goes_on_to_the_local_model() -> None:
    assert FLOOR is not None
    extractive, local = ScriptedProvider("extractive"), ScriptedProvider("local")
    extractive.push(Reply("Maybe this. [1]", confidence=FLOOR / 2))
    local.push(Reply("Local answer. [1]"))
    gw, ledger = gateway(extractive=extractive, local=local)
    result = await gw.invoke(REQ, principal=ALICE, judge=ok)
    assert result.response.text == "Local answer. [1]"
    (first, second) = ledger.attempts()
    assert (first.model_alias, first.outcome) == ("extractive", "escalated")
    assert first.escalation_reason is not None and "low confidence" in first.escalation_reason
    assert (second.model_alias, second.outcome) == ("local", "ok")


async def test_an_unsure_extract_on_the_last_tier_is_weak_for_the_caller() -> None:
    extractive = ScriptedProvider("extractive", Reply("Maybe. [1]", confidence=0.01))
    gw, _ = gateway(extractive=extractive)  # no local model: extractive is the only tier
    result = await gw.invoke(REQ, principal=ALICE, judge=ok)
    assert result.final_verdict is not None and not result.final_verdict.ok
    assert "low confidence" in result.final_verdict.reason


async def test_with_keys_the_default_route_never_asks_the_extractive_tier() -> None:
    extractive, anthropic = ScriptedProvider("extractive"), ScriptedProvider("anthropic")
    gw, _ = gateway(extractive=extractive, anthropic=anthropic)
    result = await gw.invoke(REQ, principal=ALICE)
    assert result.route == "default" and extractive.calls == []
    assert result.response.model_alias == "claude-haiku-4-5"


async def test_free_first_answers_for_free_then_escalates_what_it_is_unsure_of() -> None:
    extractive, anthropic = ScriptedProvider("extractive"), ScriptedProvider("anthropic")
    extractive.push(Reply("Sure. [1]", confidence=0.9), Reply("Unsure. [1]", confidence=0.05))
    anthropic.push(Reply("Haiku answer. [1]"))
    gw, _ = gateway(extractive=extractive, anthropic=anthropic)
    free = await gw.invoke(REQ, principal=ALICE, route="free-first", judge=ok)
    assert free.response.text == "Sure. [1]" and free.cost_nano_usd == 0
    paid = await gw.invoke(REQ, principal=ALICE, route="free-first", judge=ok)
    assert paid.response.model_alias == "claude-haiku-4-5" and paid.cost_nano_usd > 0
    assert [a.outcome for a in paid.attempts] == ["escalated", "ok"]
    assert len(anthropic.calls) == 1


async def test_a_streamed_unsure_extract_is_retracted_for_the_next_tier() -> None:
    extractive, local = ScriptedProvider("extractive"), ScriptedProvider("local")
    extractive.push(Reply("Maybe. [1]", confidence=0.01))
    local.push(Reply("Local. [1]"))
    gw, _ = gateway(extractive=extractive, local=local)
    stream = gw.stream(REQ, principal=ALICE, judge=ok)
    events = [e async for e in stream]
    assert [e.data["reason"] for e in events if e.type == "retract"] == [
        f"low confidence: 0.01 < {FLOOR:.2f}"
    ]
    assert stream.result is not None and stream.result.response.text == "Local. [1]"
