"""Two API replicas on one Redis and one PostgreSQL: budgets, rate limits, key and budget
changes and the shared counters hold across both (gateway traffic against the emulator)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
import sqlalchemy as sa

from gateway.ledger.tables import ledger
from governance.keys import KeyStore
from tests.scale.replicas import Replicas, running

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

CACHE_S = 5.0  # keys, budgets and rate rules: another replica's change within this time
BODY = {
    "model": "claude-haiku-4-5",
    "max_tokens": 16,
    "messages": [{"role": "user", "content": "hi"}],
}


@pytest.fixture(scope="module")
def replicas(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replicas]:
    with running(tmp_path_factory.mktemp("replicas"), 2) as rig:
        yield rig


def new_key(rig: Replicas, user: str, role: str = "employee", dept: str = "") -> tuple[str, str]:
    engine = rig.engine()
    try:
        made = KeyStore(engine).create(user=user, role=role, department=dept or f"d-{user}")
    finally:
        engine.dispose()
    return made.key, made.record.id


async def fire(urls: list[str], key: str, n: int, body: dict[str, object] = BODY) -> list[int]:
    """``n`` concurrent requests, alternating between the replicas: their status codes."""
    limits = httpx.Limits(max_connections=n)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:

        async def one(i: int) -> int:
            url = urls[i % len(urls)] + "/v1/messages"
            r = await client.post(url, json=body, headers={"x-api-key": key})
            return r.status_code

        return list(await asyncio.gather(*(one(i) for i in range(n))))


def admin(rig: Replicas, replica: int) -> httpx.Client:
    key, _ = new_key(rig, f"admin{replica}-{time.monotonic_ns()}", role="admin")
    return httpx.Client(base_url=rig.urls[replica], headers={"x-api-key": key}, timeout=30)


def ledger_cost(rig: Replicas, user: str) -> tuple[int, int]:
    """(requests answered, their cost in nano-USD) in the ledger for ``user``."""
    engine = rig.engine()
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(
                sa.func.count(), sa.func.coalesce(sa.func.sum(ledger.c.cost_nano_usd), 0)
            ).where(ledger.c.kind == "request", ledger.c.user_id == user, ledger.c.outcome == "ok")
        ).one()
    engine.dispose()
    return int(row[0]), int(row[1])


def wait_for(check: object, timeout: float) -> float:
    """Seconds until ``check()`` is true (AssertionError after ``timeout``)."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if check():  # type: ignore[operator]
            return time.monotonic() - t0
        time.sleep(0.1)
    raise AssertionError(f"not within {timeout} s")


def one_cost(rig: Replicas) -> int:
    key, _ = new_key(rig, "probe")
    r = httpx.post(rig.urls[0] + "/v1/messages", json=BODY, headers={"x-api-key": key})
    assert r.status_code == 200, r.text
    return int(r.headers["x-loregate-cost-nano-usd"])


def test_budget_race_across_replicas_never_overruns(replicas: Replicas) -> None:
    cost = one_cost(replicas)
    key, _ = new_key(replicas, "racer")
    with admin(replicas, 0) as a:
        hard_usd = cost * 50 / 1e9
        r = a.put(
            "/admin/budgets/user/racer", json={"period": "day", "hard_usd": f"{hard_usd:.9f}"}
        )
        assert r.status_code == 200, r.text
    codes = asyncio.run(fire(replicas.urls, key, 200))
    assert set(codes) <= {200, 402}, codes
    ok = codes.count(200)
    # every 200 has its ledger row (written in the background: wait for it)
    wait_for(lambda: ledger_cost(replicas, "racer")[0] == ok, 10)
    _, spent = ledger_cost(replicas, "racer")
    reservation = 16 * 5_000 + 100 * 1_000  # worst case: max_tokens at $5/MTok + the prompt
    assert spent <= cost * 50 + reservation, (ok, spent, cost)
    assert 0 < ok <= 51


def test_rate_limit_is_one_count_across_replicas(replicas: Replicas) -> None:
    key, key_id = new_key(replicas, "limited")
    with admin(replicas, 1) as a:
        r = a.put(f"/admin/limits/key/{key_id}", json={"requests_per_minute": 30})
        assert r.status_code == 200, r.text
    if datetime.now(UTC).second > 45:  # fixed one-minute windows: stay inside one
        time.sleep(61 - datetime.now(UTC).second)
    time.sleep(CACHE_S)  # replica 0 learns the rule within its cache time
    codes = asyncio.run(fire(replicas.urls, key, 80))
    assert set(codes) <= {200, 429}, codes
    assert codes.count(200) == 30


def test_a_key_revoked_on_one_replica_is_refused_by_the_other(replicas: Replicas) -> None:
    key, key_id = new_key(replicas, "leaver")
    other = replicas.urls[1] + "/v1/messages"
    headers = {"x-api-key": key}
    assert httpx.post(other, json=BODY, headers=headers).status_code == 200  # cached there
    with admin(replicas, 0) as a:
        assert a.post(f"/admin/keys/{key_id}/revoke").status_code == 200
    took = wait_for(lambda: httpx.post(other, json=BODY, headers=headers).status_code == 401, 15)
    assert took <= CACHE_S + 1.0


def test_a_budget_cut_on_one_replica_is_enforced_by_the_other(replicas: Replicas) -> None:
    key, _ = new_key(replicas, "spender")
    other = replicas.urls[1] + "/v1/messages"
    headers = {"x-api-key": key}
    assert httpx.post(other, json=BODY, headers=headers).status_code == 200
    with admin(replicas, 0) as a:
        r = a.put("/admin/budgets/user/spender", json={"period": "day", "hard_usd": "0.000000001"})
        assert r.status_code == 200, r.text
    took = wait_for(lambda: httpx.post(other, json=BODY, headers=headers).status_code == 402, 15)
    assert took <= CACHE_S + 1.0


def test_budget_counters_are_shared(replicas: Replicas) -> None:
    """What one replica spent, the other sees: both report the same spending."""
    key, _ = new_key(replicas, "sharer")
    with admin(replicas, 0) as a:
        a.put("/admin/budgets/user/sharer", json={"period": "day", "hard_usd": "10"})
    assert asyncio.run(fire(replicas.urls[:1], key, 5)) == [200] * 5
    wait_for(lambda: ledger_cost(replicas, "sharer")[0] == 5, 10)
    n, spent = ledger_cost(replicas, "sharer")

    def seen(i: int) -> int:
        with admin(replicas, i) as c:
            rows = c.get("/admin/budgets").json()["budgets"]
        # -1 until this replica's rule cache (CACHE_S) knows the new budget
        return next((int(b["spent_nano_usd"]) for b in rows if b["name"] == "sharer"), -1)

    wait_for(lambda: seen(1) == spent, 10)
    assert n == 5 and seen(0) == seen(1) == spent
