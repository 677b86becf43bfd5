"""The Gateway facade: routing by name, availability, governance hooks, ledger rows."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.config import GatewayConfig
from gateway.hooks import Admission, CallContext, RequestFacts
from gateway.types import InvocationResult, ModelRequest, Usage
from kernel.errors import AllProvidersFailed, BudgetExceeded, UnknownModel
from kernel.principal import LOCAL_OPERATOR, Principal
from testkit.faults import Fault
from testkit.scripted import Reply
from tests.gateway.rig import HAIKU, LOCAL, Rig

ALICE = Principal(user_id="alice", department="legal", project="contracts", key_id="key_1")


def ask(model: str = "default") -> ModelRequest:
    return ModelRequest(model=model, messages=[{"role": "user", "content": "hi"}])


async def test_with_no_keys_the_default_route_runs_the_offline_route(
    config: GatewayConfig,
) -> None:
    rig = Rig(config, anthropic=False, openai=False)  # the rig has no extractive answerer
    rig.local.push(Reply("local says hi", Usage(input_tokens=12, output_tokens=4)))
    result = await rig.gateway.invoke(ask(), principal=ALICE)
    assert result.response.text == "local says hi"
    assert [(a.tier, a.model_alias, a.model_id) for a in result.attempts] == [(0, "local", LOCAL)]
    assert (result.route, result.requested_route) == ("offline", "default")
    tiers = rig.catalogue.route_tiers("default")
    assert [t.aliases for t in tiers] == [("local",)]
    assert tiers[0].skipped == ()
    assert result.cost_nano_usd == 0


async def test_no_available_model_is_a_clear_error(config: GatewayConfig) -> None:
    rig = Rig(config, anthropic=False, openai=False, local=False)
    with pytest.raises(AllProvidersFailed, match="no available model"):
        await rig.gateway.invoke(ask(), principal=ALICE)
    assert rig.ledger.requests()[0].outcome == "error"


async def test_names_resolve_to_routes_aliases_and_pinned_ids(rig: Rig) -> None:
    assert rig.catalogue.route_name("default") == "default"
    assert rig.catalogue.route_name("claude-haiku-4-5") == "claude-haiku-4-5"
    assert rig.catalogue.route_name(HAIKU) == "claude-haiku-4-5"
    result = await rig.gateway.invoke(ask("claude-sonnet-4-6"), principal=ALICE, route="economy")
    assert result.route == "economy"  # the route argument wins over request.model
    with pytest.raises(UnknownModel) as err:
        await rig.gateway.invoke(ask("claude-3-opus-20240229"), principal=ALICE)
    assert err.value.status == 404 and "claude-3-opus-20240229" in err.value.message
    spec = rig.catalogue.model_spec("claude-haiku-4-5")
    assert (spec.min_cacheable_tokens, spec.model_id) == (4096, HAIKU)
    with pytest.raises(UnknownModel):
        rig.catalogue.model_spec("gpt-2")


class Recorder:
    def __init__(self, *, refuse: Exception | None = None, downgrade: bool = False) -> None:
        self.refuse = refuse
        self.downgrade = downgrade
        self.admitted: list[CallContext] = []
        self.settled: list[tuple[str, InvocationResult | None, BaseException | None, Any]] = []

    async def admit(self, ctx: CallContext) -> Admission:
        self.admitted.append(ctx)
        if self.refuse:
            raise self.refuse
        if self.downgrade:
            return Admission(
                route="economy",
                request=ctx.request,
                reservation="r1",
                downgraded_reason="legal is past its soft limit",
            )
        return Admission(route=ctx.route, request=ctx.request, reservation="r0")

    async def settle(self, facts: RequestFacts) -> None:
        ctx = facts.ctx
        self.settled.append((ctx.request_id, facts.result, facts.error, ctx.reservation))


async def test_hooks_admit_and_settle_once_on_success(config: GatewayConfig) -> None:
    hooks = Recorder()
    rig = Rig(config, hooks=hooks)
    result = await rig.gateway.invoke(
        ask(), principal=ALICE, prompt_version="qa@abc123", source="ask", request_id="req-1"
    )
    ctx = hooks.admitted[0]
    assert (ctx.route, ctx.principal, ctx.prompt_version, ctx.source) == (
        "default",
        ALICE,
        "qa@abc123",
        "ask",
    )
    assert ctx.routing_version == config.routing_version
    assert hooks.settled == [("req-1", result, None, "r0")]
    row = rig.ledger.requests()[0]
    assert (row.request_id, row.user_id, row.department, row.project, row.key_id) == (
        "req-1",
        "alice",
        "legal",
        "contracts",
        "key_1",
    )
    assert (row.prompt_version, row.routing_version, row.source) == (
        "qa@abc123",
        config.routing_version,
        "ask",
    )


async def test_hooks_settle_once_on_failure(config: GatewayConfig) -> None:
    hooks = Recorder()
    rig = Rig(config, hooks=hooks)
    rig.anthropic.push(Fault.status(400), model=HAIKU)
    with pytest.raises(Exception) as err:
        await rig.gateway.invoke(ask(), principal=ALICE, request_id="req-2")
    assert hooks.settled == [("req-2", None, err.value, "r0")]


async def test_a_refused_call_reaches_no_model_and_is_recorded(config: GatewayConfig) -> None:
    refusal = BudgetExceeded("department budget 'legal' (month) is spent")
    hooks = Recorder(refuse=refusal)
    rig = Rig(config, hooks=hooks)
    with pytest.raises(BudgetExceeded):
        await rig.gateway.invoke(ask(), principal=ALICE, request_id="req-3")
    assert rig.anthropic.calls == [] and rig.local.calls == []
    assert hooks.settled == [("req-3", None, refusal, None)]
    (row,) = rig.ledger.rows
    assert (row.outcome, row.error_class, row.cost_nano_usd) == ("rejected", "budget_exceeded", 0)


async def test_a_soft_limit_downgrade_runs_the_economy_route(config: GatewayConfig) -> None:
    rig = Rig(config, hooks=Recorder(downgrade=True))
    result = await rig.gateway.invoke(ask(), principal=ALICE)
    assert (result.route, result.requested_route) == ("economy", "default")
    assert result.downgraded_reason == "legal is past its soft limit"
    row = rig.ledger.requests()[0]
    assert (row.route, row.requested_route, row.escalation_reason) == (
        "economy",
        "default",
        "legal is past its soft limit",
    )


async def test_stream_result_and_ledger_take_the_last_cumulative_usage(rig: Rig) -> None:
    usage = Usage(
        input_tokens=50,
        output_tokens=30,
        cache_read_input_tokens=4096,
        cache_creation_input_tokens=100,
        cache_creation_1h_input_tokens=100,
    )
    rig.anthropic.push(Reply("streamed answer", usage), model=HAIKU)
    stream = rig.gateway.stream(ask(), principal=ALICE, request_id="req-s")
    text = "".join(
        [e.data["delta"].get("text", "") async for e in stream if e.type == "content_block_delta"]
    )
    assert text == "streamed answer"
    assert stream.result is not None
    assert stream.result.usage == usage  # message_start + final message_delta, not their sum
    row = rig.ledger.requests()[0]
    assert (
        row.input_tokens,
        row.output_tokens,
        row.cache_read_tokens,
        row.cache_write_1h_tokens,
        row.cache_write_5m_tokens,
    ) == (50, 30, 4096, 100, 0)
    assert row.cost_nano_usd == 50 * 1000 + 30 * 5000 + 4096 * 100 + 100 * 2000
    assert row.stream is True and row.ttft_ms is not None


async def test_a_stream_abandoned_early_is_recorded_as_cancelled(rig: Rig) -> None:
    stream = rig.gateway.stream(ask(), principal=ALICE)
    async for _ in stream:
        break
    await stream.aclose()
    request, attempt = rig.ledger.rows  # the model call was closed and recorded too
    assert (request.outcome, request.error_class) == ("error", "cancelled")
    assert (attempt.kind, attempt.outcome, attempt.error_class) == ("attempt", "error", "cancelled")


async def test_count_tokens_uses_the_first_available_model(rig: Rig) -> None:
    n = await rig.gateway.count_tokens(ask("default"))
    assert n > 0 and rig.anthropic.calls[-1].model == HAIKU


async def test_breaker_states_list_every_available_model(rig: Rig) -> None:
    states = rig.catalogue.breaker_states()
    assert states["anthropic/claude-haiku-4-5"] == "closed"
    assert "local/local" in states and "openai/gpt-5.5" in states


async def test_aclose_closes_the_providers(rig: Rig) -> None:
    await rig.gateway.invoke(ask(), principal=LOCAL_OPERATOR)
    await rig.gateway.aclose()
    assert rig.anthropic.closed


async def test_a_request_governance_changed_never_carries_the_client_bytes(
    config: GatewayConfig,
) -> None:
    """Upstream redaction returns a changed request: its wire body (the raw, unredacted
    client bytes) is dropped, so the provider builds it from the redacted fields."""
    from gateway.types import WireBody

    class Redacting:
        async def admit(self, ctx: CallContext) -> Admission:
            changed = ctx.request.model_copy(
                update={"messages": [{"role": "user", "content": "x"}]}
            )
            return Admission(route=ctx.route, request=changed)

        async def settle(self, facts: RequestFacts) -> None:
            return None

    raw = b'{"model":"default","messages":[{"role":"user","content":"hi"}]}'
    plain = ask().with_wire(WireBody("anthropic", raw, {"model": "default"}))
    rig = Rig(config)
    rig.anthropic.push(Reply("ok"), Reply("ok"), model=HAIKU)
    await rig.gateway.invoke(plain, principal=ALICE)
    assert rig.anthropic.calls[-1].wire is not None  # unchanged: the bytes go along
    redacting = Rig(config, hooks=Redacting())
    redacting.anthropic.push(Reply("ok"), model=HAIKU)
    again = ask().with_wire(WireBody("anthropic", raw, {"model": "default"}))
    await redacting.gateway.invoke(again, principal=ALICE)
    sent = redacting.anthropic.calls[-1]
    assert sent.wire is None and sent.messages == [{"role": "user", "content": "x"}]


async def test_streams_ending_together_let_each_other_through_between_finish_parts(
    config: GatewayConfig,
) -> None:
    """A stream's end (result, ledger rows, settlement) gives the loop back between its parts,
    so another stream's events still go out while it finishes, not after all of it."""
    import asyncio

    log: list[str] = []

    class Settling(Recorder):
        async def settle(self, facts: RequestFacts) -> None:
            log.append(f"settle {facts.ctx.request_id}")
            await super().settle(facts)

    rig = Rig(config, hooks=Settling())
    record = rig.ledger.record

    def ledger(facts: RequestFacts) -> None:
        log.append(f"ledger {facts.ctx.request_id}")
        record(facts)

    rig.ledger.record = ledger  # type: ignore[method-assign]
    rig.anthropic.push(Reply("short"), model=HAIKU)
    blocks = [{"type": "text", "text": f"w{i}"} for i in range(20)]
    rig.anthropic.push(Reply(content=blocks), model=HAIKU)  # b: many more events than a

    async def consume(request_id: str) -> None:
        async for event in rig.gateway.stream(ask(), principal=ALICE, request_id=request_id):
            log.append(f"{request_id} {event.type}")
            await asyncio.sleep(0)  # as a client's socket write would

    await asyncio.gather(consume("a"), consume("b"))
    ledger_a, settle_a = log.index("ledger a"), log.index("settle a")
    between = [entry for entry in log[ledger_a:settle_a] if entry.startswith("b ")]
    assert between, " | ".join(
        log
    )  # b's events went out between a's ledger rows and its settlement
    assert log.index("a message_stop") < ledger_a < settle_a
