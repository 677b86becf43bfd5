"""Budgets: reserve before, settle after, all or nothing, atomic on every backend."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select

from gateway.hooks import CallContext, RequestFacts
from gateway.types import AttemptRecord, InvocationResult, ModelRequest, ModelResponse, Usage
from governance.budget_sql import SqlBudgetCounter
from governance.budget_worker import BudgetWorker
from governance.budgets import BudgetBook, BudgetCounter, usd_to_nano
from governance.governor import Governance, Ticket
from governance.metrics import GovernanceMetrics
from governance.tables import budget_reservations, budget_usage
from kernel.errors import BudgetExceeded, InvalidRequest
from kernel.principal import Principal
from tests.governance.helpers import ALICE

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
Pair = tuple[BudgetBook, BudgetCounter]


def test_usd_parsing_is_exact_and_checked() -> None:
    assert usd_to_nano("12.5") == 12_500_000_000
    assert usd_to_nano("$0.000000001") == 1
    for bad in ("abc", "-1", "0.0000000001", "nan"):
        with pytest.raises(InvalidRequest):
            usd_to_nano(bad)


def test_definitions_are_validated_and_applied_by_scope(sqlite_engine: Engine) -> None:
    book = BudgetBook(sqlite_engine, cache_ttl_s=0)
    book.set("department", "sales", period="month", hard_usd="10", soft_usd="8")
    book.set("project", "crm", period="day", hard_usd="1")
    book.set("user", "bob", period="day", hard_usd="1")
    with pytest.raises(InvalidRequest, match="soft limit"):
        book.set("project", "crm", period="day", hard_usd="1", soft_usd="2")
    with pytest.raises(InvalidRequest, match="scope"):
        book.set("team", "x", period="day", hard_usd="1")
    with pytest.raises(InvalidRequest, match="period"):
        book.set("user", "x", period="week", hard_usd="1")
    assert book.get("project", "crm").hard_limit_nano == 1_000_000_000  # unchanged
    assert sorted(b.label for b in book.applicable(ALICE)) == ["department:sales", "project:crm"]
    crm = book.get("project", "crm")
    assert crm.window(NOW) == "2026-06-15"
    assert book.get("department", "sales").window(NOW) == "2026-06"


def test_reserve_settle_and_the_hard_limit(book_and_counter: Pair) -> None:
    book, counter = book_and_counter
    dept = book.set(
        "department", "sales", period="month", hard_usd="0.000001", soft_usd="0.0000005"
    )
    r1 = counter.reserve([dept], 600, NOW)
    assert [(s.spent_nano, s.reserved_nano) for s in r1.states] == [(0, 600)]
    with pytest.raises(BudgetExceeded) as caught:
        counter.reserve([dept], 600, NOW)  # 600 + 600 > 1000
    err = caught.value
    assert err.status == 402 and err.details["budget"] == "department:sales"
    assert "department:sales" in err.message and "hard limit" in err.message
    states = counter.settle(r1, 550)  # cheaper than reserved: the rest comes back
    assert [(s.spent_nano, s.reserved_nano, s.over_soft) for s in states] == [(550, 0, True)]
    r2 = counter.reserve([dept], 450, NOW)
    counter.settle(r2, 450)
    usage = counter.usage([dept], NOW)[0]
    assert (usage.spent_nano, usage.reserved_nano, usage.over_hard) == (1000, 0, True)
    with pytest.raises(BudgetExceeded):
        counter.reserve([dept], 0, NOW)  # exhausted: even a free call is refused
    # Next month is a new window.
    assert counter.reserve([dept], 10, NOW + timedelta(days=31)).states[0].spent_nano == 0


def test_several_budgets_are_all_or_nothing(book_and_counter: Pair) -> None:
    book, counter = book_and_counter
    dept = book.set("department", "sales", period="month", hard_usd="0.00001")  # 10,000
    proj = book.set("project", "crm", period="day", hard_usd="0.000001")  # 1,000
    with pytest.raises(BudgetExceeded) as caught:
        counter.reserve([dept, proj], 2000, NOW)
    assert caught.value.details["budget"] == "project:crm"
    dept_state = counter.usage([dept], NOW)[0]
    assert dept_state.reserved_nano == 0  # nothing was taken from the department either
    r = counter.reserve([dept, proj], 900, NOW)
    counter.settle(r, 1200)  # the real cost may exceed the estimate: it is still counted
    assert [
        (s.budget.label, s.spent_nano, s.reserved_nano) for s in counter.usage([dept, proj], NOW)
    ] == [("department:sales", 1200, 0), ("project:crm", 1200, 0)]


def test_a_free_call_settles_cleanly(book_and_counter: Pair) -> None:
    """A zero estimate (the local model) reserves and settles like any other."""
    book, counter = book_and_counter
    dept = book.set("department", "sales", period="month", hard_usd="1")
    r = counter.reserve([dept], 0, NOW)
    assert counter.settle(r, 0)[0].reserved_nano == 0
    r1, r2 = counter.reserve([dept], 500, NOW), counter.reserve([dept], 300, NOW)
    states = counter.settle_many([(r1, 400), (r2, 100)])
    assert [s[0].spent_nano for s in states] == [400, 500]
    assert counter.usage([dept], NOW)[0].reserved_nano == 0


@pytest.mark.redis
def test_a_retried_redis_settlement_counts_once(redis_url: str) -> None:
    import redis

    from governance.budget_redis import RedisBudgetCounter
    from governance.budgets import Budget

    client = redis.Redis.from_url(redis_url)
    counter = RedisBudgetCounter(client)
    b = Budget(9, "user", "bob", "day", 10_000)
    r = counter.reserve([b], 500, NOW)
    counter.settle_many([(r, 400)])
    assert counter.settle(r, 400)[0].spent_nano == 400  # a replayed batch changes nothing
    client.close()


def test_stale_reservations_are_released(sqlite_engine: Engine) -> None:
    book = BudgetBook(sqlite_engine, cache_ttl_s=0)
    counter = SqlBudgetCounter(sqlite_engine, stale_after_s=60)
    dept = book.set("department", "sales", period="month", hard_usd="0.000001")
    counter.reserve([dept], 1000, NOW)  # this request never settles (a crashed process)
    with pytest.raises(BudgetExceeded):
        counter.reserve([dept], 1, NOW)
    assert counter.sweep(NOW + timedelta(seconds=61)) == 1
    assert counter.usage([dept], NOW)[0].reserved_nano == 0
    with sqlite_engine.connect() as conn:
        assert conn.execute(select(budget_reservations)).all() == []


@pytest.mark.redis
def test_redis_releases_stale_reservations_inside_the_script(redis_url: str) -> None:
    import redis

    from governance.budget_redis import RedisBudgetCounter
    from governance.budgets import Budget

    client = redis.Redis.from_url(redis_url)
    counter = RedisBudgetCounter(client, stale_after_s=60)
    b = Budget(7, "project", "crm", "day", 1000)
    counter.reserve([b], 1000, NOW)
    with pytest.raises(BudgetExceeded):
        counter.reserve([b], 1, NOW + timedelta(seconds=30))
    r = counter.reserve([b], 1000, NOW + timedelta(seconds=61))
    assert r.states[0].reserved_nano == 1000
    client.close()


def _result(cost: int) -> InvocationResult:
    usage = Usage(input_tokens=10, output_tokens=5)
    return InvocationResult(
        request_id="r",
        route="default",
        response=ModelResponse(
            id="m",
            provider="anthropic",
            model_alias="claude-haiku-4-5",
            model_id="h",
            content=[{"type": "text", "text": "ok"}],
            usage=usage,
        ),
        attempts=[
            AttemptRecord(
                0,
                "claude-haiku-4-5",
                "h",
                "anthropic",
                usage,
                cost / 1e9,
                1.0,
                None,
                "ok",
                cost_nano_usd=cost,
            )
        ],
    )


def _facts(
    ctx: CallContext,
    *,
    result: InvocationResult | None = None,
    error: BaseException | None = None,
    attempts: list[AttemptRecord] | None = None,
) -> RequestFacts:
    return RequestFacts(
        ctx,
        NOW,
        ctx.route,
        1.0,
        False,
        list(result.attempts) if result is not None else (attempts or []),
        result=result,
        error=error,
    )


@pytest.mark.parametrize("settle", ["inline", "background"])
async def test_200_concurrent_requests_cannot_overrun_a_budget_for_50(
    book_and_counter: Pair, settle: str
) -> None:
    """Each request reserves 1,000 and costs 1,000; the budget allows 50 of them."""
    book, counter = book_and_counter
    book.set("department", "sales", period="month", hard_usd="0.00005")  # 50,000 nano-USD
    reservation = 1000
    worker = BudgetWorker(counter) if settle == "background" else None
    gov = Governance(
        budgets=book,
        counter=counter,
        metrics=GovernanceMetrics(),
        worker=worker,
        estimator=lambda route, request, tokens: reservation,
        now=lambda: NOW,
    )
    request = ModelRequest(model="default", messages=[{"role": "user", "content": "hi"}])

    async def one(i: int) -> bool:
        ctx = CallContext(request_id=f"r{i}", principal=ALICE, route="default", request=request)
        try:
            admission = await gov.admit(ctx)
        except BudgetExceeded:
            await gov.settle(_facts(ctx, error=BudgetExceeded("refused")))
            return False
        ctx.reservation = admission.reservation
        await asyncio.sleep(0)
        await gov.settle(_facts(ctx, result=_result(reservation)))
        return True

    outcomes = await asyncio.gather(*(one(i) for i in range(200)))
    await gov.aclose()  # the background worker finishes its queue
    state = counter.usage(book.all(), NOW)[0]
    assert sum(outcomes) == 50
    assert state.reserved_nano == 0
    assert state.budget.hard_limit_nano <= state.spent_nano <= 50_000 + reservation


async def test_admit_releases_its_reservation_when_it_fails_later(sqlite_engine: Engine) -> None:
    book = BudgetBook(sqlite_engine, cache_ttl_s=0)
    counter = SqlBudgetCounter(sqlite_engine)
    book.set("department", "sales", period="month", hard_usd="1")

    class Broken:
        def redact_json(self, value: object, key: str | None = None) -> object:
            raise RuntimeError("redactor down")

        def redact(self, text: str) -> str:
            raise RuntimeError("redactor down")

    gov = Governance(
        budgets=book,
        counter=counter,
        metrics=GovernanceMetrics(),
        redactor=Broken(),
        redact_upstream=True,
        estimator=lambda *_: 777,
        now=lambda: NOW,
    )
    ctx = CallContext(
        request_id="r",
        principal=ALICE,
        route="default",
        request=ModelRequest(model="default", messages=[{"role": "user", "content": "x"}]),
    )
    with pytest.raises(RuntimeError):
        await gov.admit(ctx)
    with sqlite_engine.connect() as conn:
        row = conn.execute(select(budget_usage)).one()
        assert (row.spent_nano, row.reserved_nano) == (0, 0)


async def test_settle_after_refusal_touches_no_budget(sqlite_engine: Engine) -> None:
    book = BudgetBook(sqlite_engine, cache_ttl_s=0)
    gov = Governance(
        budgets=book, counter=SqlBudgetCounter(sqlite_engine), metrics=GovernanceMetrics()
    )
    ctx = CallContext(
        request_id="r",
        principal=Principal(user_id="x"),
        route="default",
        request=ModelRequest(model="default", messages=[{"role": "user", "content": "x"}]),
    )
    await gov.settle(_facts(ctx, error=BudgetExceeded("no")))
    assert not isinstance(ctx.reservation, Ticket)


async def test_a_failed_request_is_charged_what_its_attempts_cost(sqlite_engine: Engine) -> None:
    """A failed request has no result: its facts carry the attempts it paid for."""
    book = BudgetBook(sqlite_engine, cache_ttl_s=0)
    counter = SqlBudgetCounter(sqlite_engine)
    book.set("department", "sales", period="month", hard_usd="1")
    gov = Governance(
        budgets=book,
        counter=counter,
        metrics=GovernanceMetrics(),
        estimator=lambda *_: 5000,
        now=lambda: NOW,
    )
    ctx = CallContext(
        request_id="r",
        principal=ALICE,
        route="default",
        request=ModelRequest(model="default", messages=[{"role": "user", "content": "x"}]),
    )
    ctx.reservation = (await gov.admit(ctx)).reservation
    attempts = _result(700).attempts  # an escalated attempt, then a failure
    await gov.settle(_facts(ctx, error=RuntimeError("all providers failed"), attempts=attempts))
    state = counter.usage(book.all(), NOW)[0]
    assert (state.spent_nano, state.reserved_nano) == (700, 0)
