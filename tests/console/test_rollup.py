"""The rollup folds each ledger request row in exactly once, in batches, and its totals are
the ledger's (as the billing export sums them)."""

from __future__ import annotations

import functools
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from console.refresher import RollupRefresher
from console.rollup import UsageRollup
from console.rollup_process import RefreshFailed, RollupProcess
from console.tables import usage_facets
from console.usage import Scope, report, scope_for
from gateway.ledger.tables import ledger
from governance import exports
from kernel.errors import PermissionDenied
from kernel.principal import Principal, Role
from loregate.database import make_engine, migrate

DAY = datetime(2026, 11, 3, 12, tzinfo=UTC)


def row(i: int, **values: object) -> dict[str, object]:
    base: dict[str, object] = {
        "kind": "request",
        "request_id": f"r{i}",
        "step": 0,
        "created_at": DAY + timedelta(hours=i % 30),
        "user_id": f"u{i % 3}",
        "department": "legal" if i % 2 else "sales",
        "project": "alpha" if i % 5 == 0 else "",
        "route": "default",
        "model_alias": "claude-haiku-4-5",
        "tier": i % 2,
        "input_tokens": 100,
        "output_tokens": 10,
        "cache_read_tokens": 50 * (i % 2),
        "cost_nano_usd": 1_000 + i,
        "escalations": i % 2,
        "outcome": ("ok", "error", "rejected")[i % 3],
    }
    return {**base, **values}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The embedded default and the real server (the rollup's day and sums are SQL)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'r.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


def test_the_rollup_adds_up_to_the_ledger_once(database_url: str) -> None:
    engine = make_engine(database_url)
    migrate(engine)
    with engine.begin() as conn:
        conn.execute(insert(ledger), [row(i) for i in range(200)])
        conn.execute(insert(ledger), [row(i, kind="attempt", step=1) for i in range(50)])
    rollup = UsageRollup(engine, batch=37, settle_s=0)
    assert rollup.refresh() == 250 and rollup.backlog() == 0
    assert rollup.refresh() == 0  # nothing folded twice
    everyone = Scope("")
    got = report(engine, everyone, "department", "2026-11-01", "2026-11-30")
    lo, hi = DAY - timedelta(days=2), DAY + timedelta(days=3)
    truth = exports.summary(engine, lo, hi)
    assert got.totals["requests"] == truth["requests"] == 200
    assert got.totals["cost_nano_usd"] == truth["cost_nano_usd"]
    assert got.totals["rejected"] == truth["outcomes"]["rejected"]
    assert {r["key"] for r in got.rows} == {"legal", "sales"}
    assert len(got.daily) == 2 and got.derived["escalation_rate"] == 0.5
    with engine.begin() as conn:  # later rows are folded into the same groups
        conn.execute(insert(ledger), [row(i) for i in range(200, 210)])
    rollup.refresh()
    again = report(engine, everyone, "department", "2026-11-01", "2026-11-30")
    assert again.totals["requests"] == 210
    mine = scope_for(Principal(user_id="u1", department="legal"))
    own = report(engine, mine, "model", "2026-11-01", "2026-11-30")
    assert own.totals["requests"] == sum(1 for i in range(210) if i % 3 == 1)
    lead = scope_for(Principal(user_id="x", department="legal", role=Role.DEPT_LEAD))
    dept = report(engine, lead, "user", "2026-11-01", "2026-11-30")
    assert dept.totals["requests"] == sum(1 for i in range(210) if i % 2)
    assert {r["key"] for r in dept.rows} == {"u0", "u1", "u2"}
    assert sum(r["requests"] for r in dept.rows) == dept.totals["requests"]
    admin = Principal(user_id="a", role=Role.ADMIN)
    alpha = report(engine, scope_for(admin, project="alpha"), "user", "2026-11-01", "2026-11-30")
    assert alpha.totals["requests"] == sum(1 for i in range(210) if i % 5 == 0)
    assert sum(r["requests"] for r in alpha.rows) == alpha.totals["requests"]
    with pytest.raises(PermissionDenied):
        scope_for(Principal(user_id="x", department="legal", role=Role.DEPT_LEAD), project="alpha")
    engine.dispose()


def test_young_rows_wait_for_the_next_refresh(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'r.db'}")
    migrate(engine)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(insert(ledger), [row(1, created_at=now - timedelta(seconds=30))])
        conn.execute(insert(ledger), [row(2, created_at=now)])
    rollup = UsageRollup(engine, settle_s=5, now=lambda: now)
    assert rollup.refresh() == 1 and rollup.backlog() == 1
    later = UsageRollup(engine, settle_s=5, now=lambda: now + timedelta(seconds=10))
    assert later.refresh() == 1 and later.backlog() == 0
    engine.dispose()


def test_a_refresh_folds_what_the_ledger_held_when_it_began(tmp_path: Path) -> None:
    """Under steady traffic rows settle as fast as a step folds them: a refresh that chased
    them would never end, so the rows written meanwhile wait for the next refresh."""
    engine = make_engine(f"sqlite:///{tmp_path / 'r.db'}")
    migrate(engine)
    with engine.begin() as conn:
        conn.execute(insert(ledger), [row(i) for i in range(10)])

    class Busy(UsageRollup):
        written = 10

        def _step(self, end: int) -> int:
            folded = super()._step(end)
            if self.written < 40:  # traffic: a row lands after every step
                with engine.begin() as conn:
                    conn.execute(insert(ledger), [row(self.written)])
                self.written += 1
            return folded

    rollup = Busy(engine, batch=3, settle_s=0)
    assert rollup.refresh() == 10  # four steps of at most 3, then it stops
    assert rollup.backlog() == 5  # the rows the traffic wrote meanwhile
    assert rollup.refresh() == 5
    everyone = report(engine, Scope(""), "department", "2026-11-01", "2026-11-30")
    assert everyone.totals["requests"] == 15
    engine.dispose()


def test_the_background_refresher_folds_new_rows_in(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'r.db'}")
    migrate(engine)
    rollup = UsageRollup(engine, settle_s=0)
    refresher = RollupRefresher(rollup, interval_s=0.02)
    refresher.start()
    try:
        with engine.begin() as conn:
            conn.execute(insert(ledger), [row(i) for i in range(5)])
        deadline = time.monotonic() + 5
        while rollup.backlog() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert rollup.backlog() == 0
    finally:
        refresher.close()
    engine.dispose()


def test_a_refresh_in_the_child_process_folds_what_the_thread_would(tmp_path: Path) -> None:
    """``loregate serve``'s refresher folds in a child process (off the serving process's
    interpreter lock): the same facets as a refresh in the thread, each row once; a child
    killed between refreshes is started again."""
    url = f"sqlite:///{tmp_path / 'r.db'}"
    engine = make_engine(url)
    migrate(engine)
    with engine.begin() as conn:
        conn.execute(insert(ledger), [row(i) for i in range(40)])
    process = RollupProcess(functools.partial(make_engine, url), settle_s=0, batch=16)
    refresher = RollupRefresher(UsageRollup(engine, settle_s=0), process=process)
    try:
        assert refresher.refresh() == 40
        assert process.child.pid is not None and process.child.pid != os.getpid()
        process.child.kill()
        with engine.begin() as conn:
            conn.execute(insert(ledger), [row(i) for i in range(40, 50)])
        assert refresher.refresh() == 10
        assert refresher.refresh() == 0
    finally:
        refresher.close()
    in_thread_url = f"sqlite:///{tmp_path / 't.db'}"
    other = make_engine(in_thread_url)
    migrate(other)
    with other.begin() as conn:
        conn.execute(insert(ledger), [row(i) for i in range(50)])
    assert UsageRollup(other, settle_s=0).refresh() == 50
    with engine.connect() as a, other.connect() as b:
        ordered = select(usage_facets).order_by(*usage_facets.primary_key.columns)
        assert [tuple(r) for r in a.execute(ordered)] == [tuple(r) for r in b.execute(ordered)]
    engine.dispose()
    other.dispose()


def test_a_child_that_cannot_start_leaves_the_refresh_to_the_thread(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'r.db'}")
    migrate(engine)
    with engine.begin() as conn:
        conn.execute(insert(ledger), [row(i) for i in range(5)])
    # An engine factory that raises in the child: it dies before it is ready.
    broken = RollupProcess(functools.partial(int, "no engine"), settle_s=0, batch=100)
    refresher = RollupRefresher(UsageRollup(engine, settle_s=0), process=broken)
    try:
        assert refresher.refresh() == 5
        assert UsageRollup(engine).backlog() == 0
    finally:
        refresher.close()
    engine.dispose()


def test_a_refresh_the_childs_database_refuses_is_an_error_the_next_turn_retries(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    process = RollupProcess(functools.partial(make_engine, url), settle_s=0, batch=100)
    try:
        with pytest.raises(RefreshFailed, match="OperationalError"):  # no tables yet
            process.refresh()
        engine = make_engine(url)
        migrate(engine)
        with engine.begin() as conn:
            conn.execute(insert(ledger), [row(i) for i in range(3)])
        assert process.refresh() == 3
        engine.dispose()
    finally:
        process.close()
