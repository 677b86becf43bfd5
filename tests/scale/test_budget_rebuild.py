"""Budget counters in Redis come back from the ledger when Redis comes back empty."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import redis

from gateway.ledger.tables import ledger
from governance.budget_rebuild import RedisBudgetRebuild, window_bounds
from governance.budget_redis import RedisBudgetCounter
from governance.budgets import BudgetBook
from loregate.database import make_engine, migrate

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


def row(rid: str, user: str, dept: str, cost: int, at: datetime) -> dict[str, object]:
    return {
        "kind": "request", "request_id": rid, "step": 0, "created_at": at, "outcome": "ok",
        "user_id": user, "department": dept, "cost_nano_usd": cost,
    }  # fmt: skip


def test_counters_lost_with_redis_are_rebuilt_from_the_ledger(
    postgres_url: str, redis_url: str
) -> None:
    engine = make_engine(postgres_url)
    migrate(engine)
    book = BudgetBook(engine, cache_ttl_s=0)
    day = book.set("user", "ann", period="day", hard_usd="10")
    month = book.set("department", "legal", period="month", hard_usd="100")
    earlier = NOW - timedelta(days=2)  # same month, another day
    with engine.begin() as conn:
        conn.execute(
            ledger.insert(),
            [
                row("a", "ann", "legal", 1_000, NOW),
                row("b", "ann", "legal", 2_000, NOW - timedelta(hours=1)),
                row("c", "bob", "legal", 4_000, earlier),
                row("d", "ann", "sales", 8_000, NOW - timedelta(days=40)),  # last month
            ],
        )
    client = redis.Redis.from_url(redis_url)
    counter = RedisBudgetCounter(client)
    rebuild = RedisBudgetRebuild(client, book, engine, now=lambda: NOW)

    assert rebuild.check()  # no marker yet: the first check rebuilds
    assert not rebuild.check()  # the marker is there: nothing to do
    client.flushdb()  # Redis restarted without persistence
    assert [s.spent_nano for s in counter.usage([day, month], NOW)] == [0, 0]
    assert rebuild.check()
    assert [s.spent_nano for s in counter.usage([day, month], NOW)] == [3_000, 7_000]
    assert window_bounds(month, NOW)[0] == datetime(2026, 12, 1, tzinfo=UTC)
    client.close()
    engine.dispose()
