"""Audit redaction in a worker process (what `loregate serve` runs): same redaction, no PII back."""

from __future__ import annotations

from datetime import UTC, datetime

from governance.audit_process import ProcessRedaction


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
