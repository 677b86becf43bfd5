"""Escalation on the answer: a weak first answer is re-asked of the next tier, step by step."""

from __future__ import annotations

import pytest

from gateway.types import ModelRequest, ModelResponse, Usage, Verdict
from kernel.principal import LOCAL_OPERATOR
from testkit.faults import Fault
from testkit.scripted import Reply
from tests.gateway.rig import HAIKU, OPUS, SONNET, Rig

Q = ModelRequest(model="default", messages=[{"role": "user", "content": "What is clause 7?"}])


def cites(response: ModelResponse) -> Verdict:
    ok = "[1]" in response.text
    return Verdict(ok, "" if ok else "no citation")


async def test_weak_answer_escalates_and_every_step_is_recorded(rig: Rig) -> None:
    rig.anthropic.push(
        Reply("I am not sure.", Usage(input_tokens=1000, output_tokens=10)), model=HAIKU
    )
    rig.anthropic.push(
        Reply("Clause 7 caps liability [1].", Usage(input_tokens=1000, output_tokens=20)),
        model=SONNET,
    )
    result = await rig.gateway.invoke(Q, principal=LOCAL_OPERATOR, judge=cites)

    assert result.response.text == "Clause 7 caps liability [1]."
    assert result.response.model_alias == "claude-sonnet-4-6"
    assert result.final_verdict == Verdict(True, "")
    haiku, sonnet = result.attempts
    assert (haiku.tier, haiku.outcome, haiku.escalation_reason) == (
        0,
        "escalated",
        "weak answer: no citation",
    )
    assert haiku.cost_nano_usd == 1000 * 1000 + 10 * 5000  # $1/MTok in, $5 out
    assert (sonnet.tier, sonnet.outcome) == (1, "ok")
    assert sonnet.cost_nano_usd == 1000 * 3000 + 20 * 15000
    assert result.cost_nano_usd == 1_050_000 + 3_300_000
    # The same question went to the next tier, unchanged but for the pinned model id.
    assert rig.anthropic.calls_for(SONNET)[0].messages == Q.messages

    request, *steps = rig.ledger.rows
    assert (request.kind, request.model_alias, request.tier, request.escalations) == (
        "request",
        "claude-sonnet-4-6",
        1,
        1,
    )
    assert request.cost_nano_usd == 4_350_000 and request.input_tokens == 2000
    assert [
        (s.step, s.model_alias, s.outcome, s.escalation_reason, s.cost_nano_usd) for s in steps
    ] == [
        (1, "claude-haiku-4-5", "escalated", "weak answer: no citation", 1_050_000),
        (2, "claude-sonnet-4-6", "ok", None, 3_300_000),
    ]


async def test_async_judge_and_weak_answers_all_the_way_up(rig: Rig) -> None:
    async def never_happy(response: ModelResponse) -> Verdict:
        return Verdict(False, f"{response.model_alias} was vague")

    result = await rig.gateway.invoke(Q, principal=LOCAL_OPERATOR, judge=never_happy)
    assert [a.model_alias for a in result.attempts] == [
        "claude-haiku-4-5",
        "claude-sonnet-4-6",
        "claude-opus-4-8",
    ]
    assert [a.outcome for a in result.attempts] == ["escalated", "escalated", "ok"]
    # The last tier's answer comes back with its weak verdict: the caller decides.
    assert result.response.model_alias == "claude-opus-4-8"
    assert result.final_verdict == Verdict(False, "claude-opus-4-8 was vague")


async def test_refusal_escalates_without_a_judge(rig: Rig) -> None:
    rig.anthropic.push(Reply("I can't help with that.", stop_reason="refusal"), model=HAIKU)
    rig.anthropic.push(Reply("Here you go."), model=SONNET)
    result = await rig.gateway.invoke(Q, principal=LOCAL_OPERATOR)
    assert result.response.text == "Here you go."
    assert result.attempts[0].escalation_reason == "refusal"
    assert result.final_verdict is None


async def test_a_failed_tier_escalates_to_the_next(rig: Rig) -> None:
    rig.anthropic.push(Fault.status(401), model=HAIKU)
    rig.openai.push(Fault.status(401))
    rig.local.push(Fault.status(403))
    rig.anthropic.push(Reply("sonnet answers"), model=SONNET)
    result = await rig.gateway.invoke(Q, principal=LOCAL_OPERATOR, judge=lambda r: Verdict(True))
    assert result.response.text == "sonnet answers"
    assert [(a.model_alias, a.outcome) for a in result.attempts] == [
        ("claude-haiku-4-5", "fallback"),
        ("gpt-5.5", "fallback"),
        ("local", "escalated"),
        ("claude-sonnet-4-6", "ok"),
    ]
    assert result.attempts[2].escalation_reason == "tier failed: all_providers_failed"


async def test_a_model_alias_is_one_tier_without_escalation(rig: Rig) -> None:
    rig.anthropic.push(Reply("meh"), model=OPUS)
    result = await rig.gateway.invoke(
        Q.model_copy(update={"model": "claude-opus-4-8"}),
        principal=LOCAL_OPERATOR,
        judge=lambda r: Verdict(False, "weak"),
    )
    assert result.route == "claude-opus-4-8"
    assert [a.outcome for a in result.attempts] == ["ok"]
    assert result.final_verdict == Verdict(False, "weak")


async def test_a_judge_that_returns_garbage_is_an_error(rig: Rig) -> None:
    with pytest.raises(TypeError, match="Verdict"):
        await rig.gateway.invoke(Q, principal=LOCAL_OPERATOR, judge=lambda r: True)  # type: ignore[arg-type, return-value]
