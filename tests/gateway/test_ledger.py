"""The ledger on real databases: migrated tables, batched background writes, no row lost."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from gateway.config import GatewayConfig
from gateway.hooks import NoGovernance
from gateway.ledger import LedgerRow, LedgerWriter, ledger
from gateway.types import ModelRequest, Usage
from governance.redaction import NullRedactor
from kernel.principal import Principal
from loregate.database import make_engine, migrate
from testkit.clock import EPOCH, ManualClock
from testkit.faults import Fault
from testkit.scripted import Reply, ScriptedProvider
from tests.gateway.rig import HAIKU
from tests.graphs import rig_graph

BOB = Principal(user_id="bob", department="sales", project="crm", key_id="k_bob")


def _row(i: int) -> LedgerRow:
    return LedgerRow(
        kind="request",
        request_id=f"r{i}",
        step=0,
        created_at=datetime(2026, 6, 1, tzinfo=UTC),
        outcome="ok",
        cost_nano_usd=10**12 + i,
        input_tokens=i,
    )


def test_migration_creates_exactly_the_declared_columns(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'l.db'}")
    migrate(engine)
    cols = {c["name"] for c in sa.inspect(engine).get_columns("gateway_ledger")}
    assert cols == {c.name for c in ledger.columns}
    engine.dispose()


def test_writer_batches_in_the_background_and_close_loses_nothing(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'l.db'}")
    migrate(engine)
    writer = LedgerWriter(engine, max_delay_s=0.05)
    threads = [
        threading.Thread(
            target=lambda k=k: [writer.write([_row(k * 1000 + i)]) for i in range(500)]
        )
        for k in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    writer.close()
    with engine.connect() as conn:
        count, total = conn.execute(
            sa.select(sa.func.count(), sa.func.sum(ledger.c.cost_nano_usd))
        ).one()
    assert count == 2000
    assert total == sum(10**12 + k * 1000 + i for k in range(4) for i in range(500))
    with pytest.raises(RuntimeError, match="closed"):
        writer.write([_row(1)])
    engine.dispose()


def test_a_failed_batch_is_retried_whole(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'l.db'}")  # no table yet: inserts fail
    writer = LedgerWriter(engine, max_delay_s=0.01, retry_backoff_s=0.01)
    writer.write([_row(1), _row(2)])
    assert not writer.flush(timeout=0.2)
    assert writer.failures >= 1
    migrate(engine)  # the database comes back
    assert writer.flush(timeout=10)
    writer.close()
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(ledger)).scalar() == 2
    engine.dispose()


async def _ledger_roundtrip(url: str, config: GatewayConfig) -> None:
    engine = make_engine(url)
    migrate(engine)
    anthropic = ScriptedProvider("anthropic")
    anthropic.push(
        Fault.status(529),
        Reply(
            "cached",
            Usage(
                input_tokens=20,
                output_tokens=7,
                cache_creation_input_tokens=5000,
                cache_creation_5m_input_tokens=5000,
                cache_read_input_tokens=0,
            ),
        ),
        model=HAIKU,
    )
    clock = ManualClock(follows_real_time=True)
    gw = rig_graph(  # the SQL ledger as the app builds it, on ``engine``
        {"anthropic": anthropic},
        gateway_config=config,
        engine=engine,
        redactor=NullRedactor(),
        hooks=NoGovernance(),
        clock=clock,
        sleep=clock.sleep,
    ).gateway
    result = await gw.invoke(
        ModelRequest(model="default", messages=[{"role": "user", "content": "x"}]),
        principal=BOB,
        prompt_version="qa@0123456789ab",
        request_id="req-pg",
    )
    await gw.aclose()
    with engine.connect() as conn:
        rows = conn.execute(sa.select(ledger).order_by(ledger.c.step)).mappings().all()
    assert [(r["kind"], r["step"]) for r in rows] == [("request", 0), ("attempt", 1)]
    req, attempt = rows
    expected = 20 * 1000 + 7 * 5000 + 5000 * 1250
    assert req["cost_nano_usd"] == attempt["cost_nano_usd"] == expected == result.cost_nano_usd
    assert (req["user_id"], req["department"], req["project"], req["key_id"]) == (
        "bob",
        "sales",
        "crm",
        "k_bob",
    )
    assert (req["route"], req["model_alias"], req["model_id"], req["provider"]) == (
        "default",
        "claude-haiku-4-5",
        HAIKU,
        "anthropic",
    )
    assert (req["prompt_version"], req["routing_version"]) == (
        "qa@0123456789ab",
        config.routing_version,
    )
    assert (req["cache_write_5m_tokens"], req["retries"], req["outcome"]) == (5000, 1, "ok")
    assert req["created_at"].replace(tzinfo=UTC) == EPOCH  # the clock at the request's start
    engine.dispose()


async def test_ledger_on_sqlite(tmp_path: Path, config: GatewayConfig) -> None:
    await _ledger_roundtrip(f"sqlite:///{tmp_path / 'l.db'}", config)


@pytest.mark.postgres
async def test_ledger_on_postgresql(postgres_url: str, config: GatewayConfig) -> None:
    await _ledger_roundtrip(postgres_url, config)


def _stored_both_ways(url: str) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """The same rows inserted by SQLAlchemy's ``execute`` and by the writer's bulk insert."""
    from datetime import timedelta

    from gateway.ledger.bulk_insert import BulkInsert
    from gateway.ledger.rows import ROW_FIELDS

    engine = make_engine(url)
    migrate(engine)
    started = datetime(2026, 6, 1, 12, 30, 5, 123456, tzinfo=UTC)
    rows = [
        LedgerRow(
            kind="attempt",
            request_id=f"rb{i}",
            step=i,
            created_at=started + timedelta(microseconds=i),
            outcome="escalated",
            tier=None if i % 2 else 1,
            prompt_version=None if i % 2 else "qa@1",
            latency_ms=1.5 + i,
            ttft_ms=None if i % 2 else 0.25,
            escalation_reason="weak: ünïcode ✓" if i else None,
            stream=bool(i % 2),
            tag="cc-7" if i else None,
            saved_nano_usd=None if i else 10**15,
            cost_nano_usd=10**14 + i,
        )
        for i in range(3)
    ]
    with engine.begin() as conn:
        conn.execute(sa.delete(ledger).where(ledger.c.request_id.like("rb%")))
        conn.execute(ledger.insert(), [r.as_dict() for r in rows])
        BulkInsert(ledger, ROW_FIELDS, engine.dialect).execute(
            conn, [LedgerRow(**{**r.as_dict(), "step": r.step + 10}) for r in rows]
        )
    with engine.connect() as conn:
        stored = [
            {k: v for k, v in m.items() if k != "id"}
            for m in conn.execute(
                sa.select(ledger).where(ledger.c.request_id.like("rb%")).order_by(ledger.c.step)
            ).mappings()
        ]
    engine.dispose()
    by_execute, by_bulk = stored[:3], stored[3:]
    for row in by_bulk:
        row["step"] = int(str(row["step"])) - 10
    return by_execute, by_bulk


def test_bulk_insert_stores_what_execute_stores_on_sqlite(tmp_path: Path) -> None:
    by_execute, by_bulk = _stored_both_ways(f"sqlite:///{tmp_path / 'l.db'}")
    assert by_bulk == by_execute
    assert by_bulk[1]["escalation_reason"] == "weak: ünïcode ✓" and by_bulk[1]["stream"] is True


@pytest.mark.postgres
def test_bulk_insert_stores_what_execute_stores_on_postgresql(postgres_url: str) -> None:
    by_execute, by_bulk = _stored_both_ways(postgres_url)
    assert by_bulk == by_execute
    assert by_bulk[0]["created_at"] == datetime(2026, 6, 1, 12, 30, 5, 123456, tzinfo=UTC)
