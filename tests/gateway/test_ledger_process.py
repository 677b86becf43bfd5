"""The ledger's inserts in a child process (what `loregate serve` runs): the same rows stored,
none by the serving process, none lost or doubled when the child dies, retried when refused."""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from gateway.ledger import LedgerRow, LedgerWriter, ledger
from gateway.ledger.insert_process import InsertProcess, pack_rows, unpack_rows
from kernel.child_worker import ChildFailed
from loregate.database import make_engine, migrate

STARTED = datetime(2026, 6, 1, 9, 0, 0, 250000, tzinfo=UTC)


def rows_of(request: int) -> list[LedgerRow]:
    common: dict[str, Any] = {
        "request_id": f"req_{request}",
        "created_at": STARTED + timedelta(seconds=request),
    }
    return [
        LedgerRow(kind="request", step=0, outcome="ok", cost_nano_usd=10**13 + request, **common),
        LedgerRow(
            kind="attempt",
            step=1,
            outcome="ok",
            latency_ms=0.125 * request,
            ttft_ms=None,
            escalation_reason="ünï ✓" if request % 2 else None,
            stream=bool(request % 2),
            **common,
        ),
    ]


def stored(engine: Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                sa.select(
                    ledger.c.request_id,
                    ledger.c.step,
                    ledger.c.created_at,
                    ledger.c.cost_nano_usd,
                    ledger.c.latency_ms,
                    ledger.c.escalation_reason,
                    ledger.c.stream,
                ).order_by(ledger.c.request_id, ledger.c.step)
            )
        ]


def never(*_: object) -> Engine:
    raise AssertionError("the serving process touched the database")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.db'}"
    pg: str = request.getfixturevalue("postgres_url")
    engine = make_engine(pg)
    migrate(engine)
    with engine.begin() as conn:
        conn.execute(sa.delete(ledger).where(ledger.c.request_id.like("req_%")))
    engine.dispose()
    return pg


def test_packed_rows_are_the_rows() -> None:
    rows = rows_of(1) + rows_of(2)
    assert unpack_rows([pack_rows(rows[:2]), pack_rows(rows[2:])]) == rows


def test_the_child_inserts_what_the_thread_would_have(url: str) -> None:
    engine = make_engine(url)
    migrate(engine)
    child = InsertProcess(functools.partial(make_engine, url))
    writer = LedgerWriter(never, inserts=child, max_delay_s=0.01)
    try:
        for n in range(40):
            writer.write(rows_of(n))
        assert writer.flush(timeout=60)
        assert child.child.pid is not None  # one child did it all
    finally:
        writer.close()
    assert writer.written == 80
    expected = sorted(
        (r.request_id, r.step, r.created_at, r.cost_nano_usd, r.latency_ms)
        for n in range(40)
        for r in rows_of(n)
    )
    got = stored(engine)
    assert [g[:2] for g in got] == [e[:2] for e in expected]
    assert [g[3:5] for g in got] == [e[3:5] for e in expected]
    stamps = [g[2] if g[2].tzinfo else g[2].replace(tzinfo=UTC) for g in got]  # SQLite: naive
    assert stamps == [e[2] for e in expected]
    assert ("req_1", 1) in [(g[0], g[1]) for g in got if g[5] == "ünï ✓" and g[6]]
    engine.dispose()


class GoneAfterCommit:
    """An insert stage whose child committed the batch, then died before answering."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def insert(self, packed: list[bytes], *, urgent: bool = False) -> int:
        rows = unpack_rows(packed)[:2]  # it had committed the first request's rows
        with self.engine.begin() as conn:
            conn.execute(ledger.insert(), [r.as_dict() for r in rows])
        raise ChildFailed("the ledger process failed: EOFError")

    def close(self) -> None:
        return None


def test_a_batch_the_child_may_have_committed_is_finished_without_doubles(
    tmp_path: Path,
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
    migrate(engine)
    writer = LedgerWriter(engine, inserts=GoneAfterCommit(engine), max_delay_s=0.01)  # type: ignore[arg-type]
    try:
        for n in range(3):
            writer.write(rows_of(n))
        assert writer.flush(timeout=30)
    finally:
        writer.close()
    assert [(r[0], r[1]) for r in stored(engine)] == [
        (f"req_{n}", step) for n in range(3) for step in (0, 1)
    ]
    engine.dispose()


def test_a_refused_batch_is_retried_until_the_database_takes_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    child = InsertProcess(functools.partial(make_engine, url))
    writer = LedgerWriter(never, inserts=child, max_delay_s=0.01, retry_backoff_s=0.05)
    try:
        writer.write(rows_of(7))
        assert not writer.flush(timeout=1.0)  # no table yet: the child's database refuses
        assert writer.failures >= 1
        engine = make_engine(url)
        migrate(engine)
        assert writer.flush(timeout=60)
    finally:
        writer.close()
    assert [(r[0], r[1]) for r in stored(engine)] == [("req_7", 0), ("req_7", 1)]
    engine.dispose()
