"""The audit log: one hash chain, append-only in the database, and tampering named by kind."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from gateway.types import ModelRequest
from governance.audit import AuditLog, chain_hash
from governance.audit_verify import verify
from kernel.digest import canonical_json, sha256_hex
from tests.governance.helpers import ALICE, GovRig

T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def _fill(log: AuditLog, n: int = 5) -> list[int]:
    return log.append(
        [
            (f"req_{i}", T0, {"request_id": f"req_{i}", "cost_nano_usd": i * 100})
            for i in range(1, n + 1)
        ]
    )


def _unlock(engine: Engine) -> None:
    """What an attacker with database access would do first: lift the append-only triggers."""
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.execute(text("DROP TRIGGER governance_audit_no_update"))
            conn.execute(text("DROP TRIGGER governance_audit_no_delete"))
        else:
            conn.execute(text("ALTER TABLE governance_audit_log DISABLE TRIGGER USER"))


def _sql(engine: Engine, statement: str, **params: Any) -> None:
    with engine.begin() as conn:
        conn.execute(text(statement), params)


def _row(engine: Engine, seq: int) -> dict[str, Any]:
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT * FROM governance_audit_log WHERE seq = :s"), {"s": seq}
        ).one()
    return dict(row._mapping)


def test_records_form_one_chain(engine: Engine) -> None:
    log = AuditLog(engine)
    assert _fill(log, 3) == [1, 2, 3]
    assert _fill(log, 2) == [4, 5]
    entries = list(log.entries())
    prev = "0" * 64
    for e in entries:
        assert e.content_hash == sha256_hex(e.payload) == sha256_hex(canonical_json(e.record))
        assert e.prev_hash == prev and e.record_hash == chain_hash(prev, e.content_hash)
        prev = e.record_hash
    report = verify(log)
    assert report.ok and report.records == 5
    assert (report.head_seq, report.head_hash) == (5, prev)
    assert log.get("req_3").seq == 3 and log.get("req_2").seq == 5  # the latest of req_2
    assert log.get(4).request_id == "req_1"


def test_concurrent_writers_still_build_one_chain(engine: Engine) -> None:
    log = AuditLog(engine)

    def writer(k: int) -> None:
        for i in range(10):
            log.append([(f"w{k}_{i}", T0, {"w": k, "i": i})])

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    report = verify(log)
    assert report.ok and report.records == 40 and report.head_seq == 40


def test_the_database_refuses_update_and_delete(engine: Engine) -> None:
    log = AuditLog(engine)
    _fill(log, 2)
    for statement in (
        "UPDATE governance_audit_log SET payload = '{}' WHERE seq = 1",
        "DELETE FROM governance_audit_log WHERE seq = 2",
    ):
        with pytest.raises(DBAPIError, match="append-only"):
            _sql(engine, statement)
    if engine.dialect.name == "postgresql":
        with pytest.raises(DBAPIError, match="append-only"):
            _sql(engine, "TRUNCATE governance_audit_log")
    assert verify(log).ok


def _kinds(log: AuditLog) -> list[tuple[str, int]]:
    return [(p.kind, p.seq) for p in verify(log).problems]


def test_tamper_edit(engine: Engine) -> None:
    log = AuditLog(engine)
    _fill(log)
    _unlock(engine)
    payload = json.loads(_row(engine, 3)["payload"])
    payload["cost_nano_usd"] = 1
    _sql(
        engine,
        "UPDATE governance_audit_log SET payload = :p WHERE seq = 3",
        p=canonical_json(payload),
    )
    assert _kinds(log) == [("edited", 3)]


def test_tamper_edit_with_rehashing(engine: Engine) -> None:
    log = AuditLog(engine)
    _fill(log)
    _unlock(engine)
    row = _row(engine, 3)
    body = canonical_json({**json.loads(row["payload"]), "cost_nano_usd": 0})
    content = sha256_hex(body)
    _sql(
        engine,
        "UPDATE governance_audit_log SET payload = :p, content_hash = :c, record_hash = :r "
        "WHERE seq = 3",
        p=body,
        c=content,
        r=chain_hash(row["prev_hash"], content),
    )
    assert _kinds(log) == [("edited", 3)]


def test_tamper_delete(engine: Engine) -> None:
    log = AuditLog(engine)
    _fill(log)
    _unlock(engine)
    _sql(engine, "DELETE FROM governance_audit_log WHERE seq = 3")
    problems = verify(log).problems
    assert [(p.kind, p.seq) for p in problems] == [("deleted", 4)]
    assert "#3..#3 were deleted" in problems[0].message


def test_tamper_delete_at_the_end(engine: Engine) -> None:
    log = AuditLog(engine)
    _fill(log)
    _unlock(engine)
    _sql(engine, "DELETE FROM governance_audit_log WHERE seq = 5")
    assert _kinds(log) == [("deleted", 5)]


def _forge(engine: Engine, seq: int, prev_hash: str) -> None:
    body = canonical_json({"request_id": "forged", "cost_nano_usd": 0})
    content = sha256_hex(body)
    _sql(
        engine,
        "INSERT INTO governance_audit_log (seq, request_id, created_at, payload, content_hash, "
        "prev_hash, record_hash) VALUES (:s, 'forged', :t, :p, :c, :ph, :r)",
        s=seq,
        t=T0,
        p=body,
        c=content,
        ph=prev_hash,
        r=chain_hash(prev_hash, content),
    )


def test_tamper_insert_in_the_middle(engine: Engine) -> None:
    log = AuditLog(engine)
    _fill(log)
    _unlock(engine)
    for seq in (5, 4, 3):  # make room at #3
        _sql(engine, "UPDATE governance_audit_log SET seq = seq + 1 WHERE seq = :s", s=seq)
    _forge(engine, 3, _row(engine, 2)["record_hash"])  # it even links to #2 correctly
    problems = verify(log).problems
    assert [(p.kind, p.seq, p.request_id) for p in problems] == [("inserted", 3, "forged")]


def test_tamper_insert_at_the_end(engine: Engine) -> None:
    log = AuditLog(engine)
    _fill(log)
    _forge(engine, 6, _row(engine, 5)["record_hash"])  # no trigger stops an INSERT
    assert _kinds(log) == [("inserted", 6)]


def test_tamper_reorder(engine: Engine) -> None:
    log = AuditLog(engine)
    _fill(log)
    _unlock(engine)
    two, four = _row(engine, 2), _row(engine, 4)
    cols = ("request_id", "payload", "content_hash", "prev_hash", "record_hash")
    sets = ", ".join(f"{c} = :{c}" for c in cols)
    for seq, row in ((2, four), (4, two)):
        _sql(
            engine,
            f"UPDATE governance_audit_log SET {sets} WHERE seq = :seq",
            seq=seq,
            **{c: row[c] for c in cols},
        )
    problems = verify(log).problems
    assert problems and problems[0].kind == "reordered" and problems[0].seq == 2
    assert {p.kind for p in problems} == {"reordered"}


def test_an_expected_head_catches_a_rewritten_tail(sqlite_engine: Engine) -> None:
    log = AuditLog(sqlite_engine)
    _fill(log, 3)
    noted = verify(log).head_hash
    _unlock(sqlite_engine)
    _sql(sqlite_engine, "DELETE FROM governance_audit_log WHERE seq = 3")
    _sql(
        sqlite_engine,
        "UPDATE governance_audit_head SET seq = 2, record_hash = :h",
        h=_row(sqlite_engine, 2)["record_hash"],
    )
    assert verify(log).ok  # a consistent rewrite...
    assert [p.kind for p in verify(log, expect_head=noted).problems] == ["deleted"]


async def test_each_request_leaves_a_complete_record(sqlite_engine: Engine) -> None:
    rig = GovRig(sqlite_engine)
    assert rig.gateway is not None
    request = ModelRequest(
        model="default", system="Be brief.", messages=[{"role": "user", "content": "2+2?"}]
    )
    result = await rig.gateway.invoke(request, principal=ALICE, prompt_version="answer@abc")
    rig.flush()
    record = rig.audit_log.get(result.request_id).record
    assert record["principal"] == {
        "user": "alice",
        "department": "sales",
        "project": "crm",
        "key_id": ALICE.key_id,
        "role": "employee",
    }
    assert record["route"] == "default" and record["outcome"] == "ok"
    assert record["prompt_version"] == "answer@abc"
    assert record["routing_version"] == rig.gateway.routing_version
    assert [m["model"] for m in record["models_tried"]] == ["claude-haiku-4-5"]
    assert record["request"]["messages"] == [{"role": "user", "content": "2+2?"}]
    assert record["response"]["content"] == [{"type": "text", "text": "ok"}]
    assert record["cost_nano_usd"] == result.cost_nano_usd == 35_000
    rig.close()
    await rig.aclose()


async def test_a_record_that_cannot_be_built_is_still_a_record(
    sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug in building one request's record leaves a skeleton in the chain, and the rest of
    the request's settlement (metrics, journal) goes on."""
    import governance.governor

    def broken(*args: object, **kwargs: object) -> object:
        raise KeyError("a field that is not there")

    monkeypatch.setattr(governance.governor, "raw_record", broken)
    rig = GovRig(sqlite_engine)
    request = ModelRequest(model="default", messages=[{"role": "user", "content": "hi"}])
    result = await rig.gateway.invoke(request, principal=ALICE)
    rig.flush()
    assert rig.audit_log.get(result.request_id).record["record_build_failed"] is True
    assert verify(rig.audit_log).ok
    rig.close()
    await rig.aclose()
