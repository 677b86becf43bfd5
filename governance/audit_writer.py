"""The audit writer: redacts and appends records in a background thread, off the hot path.

``submit`` only enqueues. The thread redacts each record (presidio is CPU work: it must not
run on the event loop) and appends whatever has accumulated as one chained batch. The thread
never gives the GIL up by itself: the interpreter's switch interval already bounds what it
costs the event loop, and each voluntary hand-back would make it wait for the GIL behind a
busy loop, so that under sustained load its queue would outgrow the requests. On a database
error it keeps the batch and retries with backoff;
``close`` waits until everything submitted is written, so a clean stop loses no record.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from gateway.background import BatchOwner, BatchWorker
from governance.audit import AuditLog
from governance.audit_record import JsonRedactor, redact_record

log = logging.getLogger("gateway.audit")

Raw = tuple[str, datetime, dict[str, Any]]
# What ``submit`` takes: a record, or a function that builds it (then built on the thread, not
# on the event loop that submitted it).
Pending = Raw | Callable[[], Raw]


class AuditWriter(BatchOwner):
    def __init__(
        self,
        audit: AuditLog,
        redactor: JsonRedactor,
        *,
        batch_size: int = 200,
        max_delay_s: float = 0.25,
        retry_backoff_s: float = 0.5,
    ) -> None:
        self.audit = audit
        self.redactor = redactor
        self.batch_size = batch_size
        self.max_delay_s = max_delay_s
        self.retry_backoff_s = retry_backoff_s
        self.written = 0
        self._worker: BatchWorker[Pending, Raw] = BatchWorker(
            self._append,
            prepare=lambda batch: [self._redacted(item) for item in batch],
            name="loregate-audit",
            batch_size=batch_size,
            max_delay_s=max_delay_s,
            retry_backoff_s=retry_backoff_s,
            log=log,
            failed="audit: appending %d records failed (attempt %d)",
            giving_up="audit: giving up on %d records at shutdown",
        )

    @property
    def failures(self) -> int:
        return self._worker.failures

    def submit(self, raw: Pending) -> None:
        if self._worker.closed:  # a request that finished after shutdown began: write it in line
            self.audit.append([self._redacted(raw)])
            self.written += 1
            return
        self._worker.put(raw)

    def _redacted(self, item: Pending) -> Raw:
        if callable(item):
            try:
                item = item()
            except Exception:  # a bug in record building: still a record, and the chain goes on
                log.exception("audit: could not build a record")
                item = ("unknown", datetime.now(UTC), {"record_build_failed": True})
        request_id, at, payload = item
        try:
            return request_id, at, redact_record(payload, self.redactor)
        except Exception:  # never write unredacted content: keep only the skeleton
            log.exception("audit: redaction failed for %s; content dropped", request_id)
            return (
                request_id,
                at,
                {
                    **payload,
                    "request": None,
                    "response": None,
                    "error": None,
                    "redaction_failed": True,
                },
            )

    def _append(self, batch: list[Raw]) -> None:  # on the thread: redacted and chained
        self.audit.append(batch)
        self.written += len(batch)
