"""A budget set in CNY is enforced against USD cost at the rate in force; each reservation
records the rate it used; the request that would cross the limit is refused."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from gateway.hooks import CallContext
from gateway.types import ModelRequest
from governance.billing.rates import RateBook
from governance.budget_redis import RedisBudgetCounter
from governance.budgets import BudgetBook, BudgetCounter
from governance.governor import Governance, Ticket
from governance.metrics import GovernanceMetrics
from governance.tables import budget_reservations
from kernel.errors import BudgetExceeded, NotFound
from tests.governance.helpers import ALICE
from tests.governance.test_budgets import _facts, _result

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
# 5,000 CNY at 7.2 CNY per USD: floor(5000 / 7.2 * 1e9) nano-USD
LIMIT_NANO_USD = 694_444_444_444


async def test_a_cny_budget_refuses_the_request_that_would_cross_it(
    book_and_counter: tuple[BudgetBook, BudgetCounter], counter_kind: str
) -> None:
    book, counter = book_and_counter
    rates = RateBook(book.engine, cache_ttl_s=0)
    rates.add("CNY", "7.2", "2026-06-01", "PBOC central parity")
    book.set("department", "sales", period="month", hard_usd="5000", currency="CNY")
    estimate = [LIMIT_NANO_USD - 1000]
    gov = Governance(
        budgets=book,
        counter=counter,
        metrics=GovernanceMetrics(),
        estimator=lambda *_: estimate[0],
        now=lambda: NOW,
        rates=rates,
    )
    request = ModelRequest(model="default", messages=[{"role": "user", "content": "hi"}])

    async def ask(rid: str, cost: int) -> Ticket:
        estimate[0] = cost
        ctx = CallContext(request_id=rid, principal=ALICE, route="default", request=request)
        admission = await gov.admit(ctx)
        assert isinstance(admission.reservation, Ticket)
        ctx.reservation = admission.reservation
        await gov.settle(_facts(ctx, result=_result(cost)))
        return admission.reservation

    first = await ask("r1", LIMIT_NANO_USD - 1000)  # 4,999.9999928 CNY
    assert first.reservation is not None
    (priced,) = first.reservation.budgets
    assert (priced.rate, priced.hard_limit_nano) == ("CNY 7.2 (2026-06-01)", LIMIT_NANO_USD)
    # 1,001 nano-USD would cross the 5,000 CNY line: refused, naming the budget and its rate
    estimate[0] = 1001
    ctx = CallContext(request_id="r2", principal=ALICE, route="default", request=request)
    with pytest.raises(BudgetExceeded, match=r"5000 CNY at CNY 7\.2 \(2026-06-01\)") as refused:
        await gov.admit(ctx)
    assert refused.value.details["rate"] == "CNY 7.2 (2026-06-01)"
    # exactly what is left fits
    await ask("r3", 1000)
    state = counter.usage([priced], NOW)[0]
    assert (state.spent_nano, state.reserved_nano) == (LIMIT_NANO_USD, 0)
    # a budget in a currency without a rate in force fails closed, naming the fix
    book.set("project", "crm", period="month", hard_usd="100", currency="EUR")
    ctx = CallContext(request_id="r4", principal=ALICE, route="default", request=request)
    with pytest.raises(NotFound, match=r"no EUR rate is in force.*loregate billing rates add"):
        await gov.admit(ctx)
    await gov.aclose()


async def test_the_rate_is_recorded_on_the_reservation(
    book_and_counter: tuple[BudgetBook, BudgetCounter], counter_kind: str
) -> None:
    book, counter = book_and_counter
    RateBook(book.engine, cache_ttl_s=0).add("CNY", "7.25", "2026-06-01", "PBOC")
    book.set("department", "sales", period="month", hard_usd="5000", currency="CNY")
    gov = Governance(
        budgets=book,
        counter=counter,
        metrics=GovernanceMetrics(),
        estimator=lambda *_: 5,
        now=lambda: NOW,
        rates=RateBook(book.engine, cache_ttl_s=0),
    )
    ctx = CallContext(
        request_id="r",
        principal=ALICE,
        route="default",
        request=ModelRequest(model="default", messages=[{"role": "user", "content": "x"}]),
    )
    admission = await gov.admit(ctx)
    if isinstance(counter, RedisBudgetCounter):
        assert isinstance(admission.reservation, Ticket) and admission.reservation.reservation
        rid = admission.reservation.reservation.id
        recorded = counter.client.hgetall(f"{{lgb}}:rate:{rid}")
        assert list(recorded.values()) == [b"CNY 7.25 (2026-06-01)"]
    else:
        with book.engine.connect() as conn:
            assert conn.execute(select(budget_reservations.c.rate)).scalar_one() == (
                "CNY 7.25 (2026-06-01)"
            )
    assert book.get("department", "sales").as_dict()["hard_limit"] == "5000"
