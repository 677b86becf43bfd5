"""A replica SIGKILLed under load loses no ledger row, audit record or budget settlement: the
request journal made them durable before each response and the restart replays them."""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
import sqlalchemy as sa

from gateway.ledger.tables import ledger
from governance.keys import KeyStore
from governance.tables import audit_log
from tests.scale.replicas import Replicas, running, wait_ready
from tests.scale.test_replicas import BODY

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


@pytest.fixture
def one_replica(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replicas]:
    with running(tmp_path_factory.mktemp("killed"), 1) as rig:
        yield rig


async def load(url: str, key: str, seconds: float, concurrency: int) -> dict[str, int | None]:
    """Requests from ``concurrency`` clients for ``seconds`` (or until the server dies):
    request id -> status (``None``: no answer)."""
    seen: dict[str, int | None] = {}
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient(timeout=10) as client:

        async def worker() -> None:
            while time.monotonic() < deadline:
                rid = "kill-" + uuid.uuid4().hex[:16]
                headers = {"x-api-key": key, "x-request-id": rid}
                try:
                    r = await client.post(url + "/v1/messages", json=BODY, headers=headers)
                    seen[rid] = r.status_code
                except httpx.HTTPError:
                    seen[rid] = None
                    return

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return seen


def test_sigkill_under_load_loses_no_row(one_replica: Replicas) -> None:
    rig = one_replica
    engine = rig.engine()
    made = KeyStore(engine).create(user="victim", role="employee", department="ops")
    admin = KeyStore(engine).create(user="root", role="admin")
    url = rig.urls[0]
    httpx.put(
        url + "/admin/budgets/user/victim",
        json={"period": "day", "hard_usd": "100"},
        headers={"x-api-key": admin.key},
    ).raise_for_status()
    time.sleep(0.2)

    async def kill_under_load() -> dict[str, int | None]:
        task = asyncio.create_task(load(url, made.key, 20, concurrency=16))
        await asyncio.sleep(2.0)
        os.kill(rig.procs[1].pid, signal.SIGKILL)
        return await task

    seen = asyncio.run(kill_under_load())
    rig.procs[1].wait()
    ok = {rid for rid, code in seen.items() if code == 200}
    unanswered = {rid for rid, code in seen.items() if code is None}
    assert len(ok) > 50

    port = int(url.rsplit(":", 1)[1])
    proc = rig.start_replica("r0", port=port)  # same home: the same journal folder
    log = rig.tmp / f"{port}.log"
    wait_ready(url + "/readyz", proc, log)

    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(ledger.c.request_id, ledger.c.cost_nano_usd).where(
                ledger.c.kind == "request", ledger.c.user_id == "victim"
            )
        ).all()
        audited = set(
            conn.execute(
                sa.select(audit_log.c.request_id).where(audit_log.c.request_id.like("kill-%"))
            ).scalars()
        )
    in_ledger = [r.request_id for r in rows]
    assert len(in_ledger) == len(set(in_ledger))  # no row twice
    # every 200 has its row; the only others are requests answered as the process died
    assert ok <= set(in_ledger)
    assert set(in_ledger) - ok <= unanswered
    assert ok <= audited
    spent = sum(r.cost_nano_usd for r in rows)
    budgets = httpx.get(url + "/admin/budgets", headers={"x-api-key": admin.key}).json()
    victim = next(b for b in budgets["budgets"] if b["name"] == "victim")
    assert victim["spent_nano_usd"] == spent
    print(f"200s {len(ok)}, unanswered {len(unanswered)}, ledger rows {len(in_ledger)}")
    engine.dispose()
