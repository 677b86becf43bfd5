"""Audit redaction in a worker process (what `loregate serve` runs): same redaction, no PII back."""

from __future__ import annotations

import functools
from datetime import UTC, datetime

from sqlalchemy import Engine

from governance.audit import AuditLog
from governance.audit_process import ProcessRedaction, pack, unpack
from governance.audit_record import JsonRedactor
from governance.audit_verify import verify
from governance.audit_writer import AuditWriter
from kernel.digest import canonical_json
from loregate.database import writer_engine


def test_the_redaction_process_redacts_each_record_of_a_batch() -> None:
    record = {
        "request": {"messages": [{"role": "user", "content": "mail bob@example.com today"}]},
        "response": {"content": [{"type": "text", "text": "call +44 20 7946 0958"}]},
        "models_tried": [],
    }
    stage = ProcessRedaction()
    try:
        out = stage.redact_batch([("req_1", datetime.now(UTC), record)] * 2)
        pid = stage.pid
        again = stage.redact_batch([("req_2", datetime.now(UTC), record)])
        assert stage.pid == pid  # one long-lived child, not one per batch
    finally:
        stage.close()
    assert [r[0] for r in out + again] == ["req_1", "req_1", "req_2"]
    text = repr(out)
    assert "bob@example.com" not in text and "<EMAIL_ADDRESS>" in text
    assert "7946" not in text and "<PHONE_NUMBER>" in text
    assert stage.pid is None


class MustNotRedact:
    """The serving side's redactor in the tests below: the child does all of it."""

    phone_regions = ("GB",)
    score_threshold = 0.35

    def redact(self, text: str) -> str:
        raise AssertionError("redacted in the serving process")

    def redact_json(self, value: object, key: str | None = None) -> object:
        raise AssertionError("redacted in the serving process")


def pii_record(n: int) -> tuple[str, datetime, dict[str, object]]:
    return (
        f"req_{n}",
        datetime.now(UTC),
        {
            "request": {"messages": [{"role": "user", "content": f"mail bob{n}@example.com"}]},
            "response": {"content": [{"type": "text", "text": "ok"}]},
            "models_tried": [],
        },
    )


def appending_in_a_child(
    engine: Engine, redactor: JsonRedactor
) -> tuple[ProcessRedaction, AuditLog, AuditWriter]:
    """An audit writer whose child process appends to ``engine``'s database itself."""
    url = engine.url.render_as_string(hide_password=False)
    stage = ProcessRedaction(engine_factory=functools.partial(writer_engine, url))
    log = AuditLog(engine)
    return stage, log, AuditWriter(log, redactor, redaction=stage, max_delay_s=0.01)


def test_the_audit_process_redacts_chains_and_appends_on_its_own(engine: Engine) -> None:
    _, log, writer = appending_in_a_child(engine, MustNotRedact())
    try:
        for n in range(30):
            writer.submit(pii_record(n))
        assert writer.flush(timeout=120)
    finally:
        writer.close()
    assert writer.written == 30 and log.count() == 30
    payloads = " ".join(e.payload for e in log.entries())
    assert "@example.com" not in payloads and payloads.count("<EMAIL_ADDRESS>") == 30
    assert verify(log).ok  # one chain, hashed in the child


def test_when_the_audit_process_dies_the_writer_appends_the_batch_itself(engine: Engine) -> None:
    from governance.redaction import PiiRedactor

    stage, log, writer = appending_in_a_child(engine, PiiRedactor())
    try:
        writer.submit(pii_record(0))
        assert writer.flush(timeout=120)
        assert stage.pid is not None
        stage.child.kill()
        writer.submit(pii_record(1))  # the child is gone: appended here (or by a new child)
        assert writer.flush(timeout=120)
    finally:
        writer.close()
    assert log.count() == 2
    assert "@example.com" not in " ".join(e.payload for e in log.entries())


def test_a_packed_record_is_the_record_it_was() -> None:
    at = datetime(2026, 6, 1, 12, 0, 0, 123456, tzinfo=UTC)
    payload = {
        "request": {"messages": [{"role": "user", "content": "ünï ✓ bob@example.com"}]},
        "latency_ms": 1.5,
        "error": None,
        "models_tried": [{"usage": {"input_tokens": 3}, "outcome": "ok"}],
    }
    packed = pack(("req_1", at, payload))
    assert isinstance(packed, bytes)
    assert unpack(packed) == ("req_1", at, payload)
    assert canonical_json(unpack(packed)[2]) == canonical_json(payload)  # the same hashes
    huge = ("req_2", at, {"n": 2**70})  # beyond JSON's 64-bit integers: handed over as it is
    assert pack(huge) is huge and unpack(huge) is huge


def test_packed_and_unpackable_records_reach_the_chain_alike(engine: Engine) -> None:
    _, log, writer = appending_in_a_child(engine, MustNotRedact())
    try:
        writer.submit(pii_record(0))
        n, at, payload = pii_record(1)
        writer.submit((n, at, {**payload, "cost_nano_usd": 2**70}))
        assert writer.flush(timeout=120)
    finally:
        writer.close()
    entries = list(log.entries())
    assert [e.request_id for e in entries] == ["req_0", "req_1"]
    assert str(2**70) in entries[1].payload and "<EMAIL_ADDRESS>" in entries[1].payload
    assert verify(log).ok
