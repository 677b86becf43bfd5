"""Audit redaction in a worker process (what `loregate serve` runs): same redaction, no PII back."""

from __future__ import annotations

import functools
from datetime import UTC, datetime

from sqlalchemy import Engine

from governance.audit import AuditLog
from governance.audit_process import ProcessRedaction
from governance.audit_record import JsonRedactor
from governance.audit_verify import verify
from governance.audit_writer import AuditWriter
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
        process = stage._process
        assert process is not None
        process.kill()
        process.join(10)
        writer.submit(pii_record(1))  # the child is gone: appended here (or by a new child)
        assert writer.flush(timeout=120)
    finally:
        writer.close()
    assert log.count() == 2
    assert "@example.com" not in " ".join(e.payload for e in log.entries())
