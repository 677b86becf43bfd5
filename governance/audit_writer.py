"""The audit writer: redacts and appends records in a background thread, off the hot path.

``submit`` only enqueues. The thread redacts each record (presidio is CPU work: it must not
run on the event loop) and appends whatever has accumulated as one chained batch. The thread
never gives the GIL up by itself: the interpreter's switch interval already bounds what it
costs the event loop, and each voluntary hand-back would make it wait for the GIL behind a
busy loop, so that under sustained load its queue would outgrow the requests. On a database
error it keeps the batch and retries with backoff;
``close`` waits until everything submitted is written, so a clean stop loses no record.

With a ``redaction`` stage (``audit_process.ProcessRedaction``, what ``loregate serve`` uses)
the redaction runs in a worker process instead: the thread builds the raw records, hands each
batch over an in-memory pipe and waits (without the lock) for it to come back redacted, then
chains and appends it; or, when the stage ``appends``, for the child to have redacted, chained
and appended it itself. If the child is gone, the batch is redacted (and appended) on the
thread as before; if its database refused the batch, the batch is retried.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

from gateway.background import BatchOwner, BatchWorker
from governance.audit import AuditLog
from governance.audit_process import Packed, pack, redact_one, unpack
from governance.audit_record import JsonRedactor
from kernel.child_worker import ChildFailed

log = logging.getLogger("gateway.audit")

Raw = tuple[str, datetime, dict[str, Any]]
# What ``submit`` takes: a record, or a function that builds it (then built on the thread, not
# on the event loop that submitted it).
Pending = Raw | Callable[[], Raw]


class BatchRedaction(Protocol):
    """Redacts a batch of raw records elsewhere (another process)."""

    @property
    def appends(self) -> bool:
        """``append_batch`` redacts and appends a batch itself."""
        ...

    def redact_batch(self, batch: list[Raw]) -> list[Raw]: ...

    def append_batch(self, batch: list[Packed], *, urgent: bool = False) -> int: ...

    def start(self) -> None: ...

    def close(self) -> None: ...


class AuditWriter(BatchOwner):
    def __init__(
        self,
        audit: AuditLog,
        redactor: JsonRedactor,
        *,
        batch_size: int = 200,
        max_delay_s: float = 0.25,
        retry_backoff_s: float = 0.5,
        redaction: BatchRedaction | None = None,
    ) -> None:
        self.audit = audit
        self.redactor = redactor
        self.redaction = redaction
        self.batch_size = batch_size
        self.max_delay_s = max_delay_s
        self.retry_backoff_s = retry_backoff_s
        self.written = 0
        self._worker: BatchWorker[Pending | bytes, Packed] = BatchWorker(
            self._append,
            prepare=self._prepare,
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
        # packed here, on the caller's thread: see ``audit_process.pack``
        self._worker.put(pack(raw) if self._packs and not callable(raw) else raw)

    @property
    def _packs(self) -> bool:
        return self.redaction is not None and self.redaction.appends

    def _release(self) -> None:
        if self.redaction is not None:
            self.redaction.close()

    def _prepare(self, batch: list[Pending | bytes]) -> list[Packed]:
        if self._packs:  # redacted and appended in the child (``_append``)
            return [item if isinstance(item, bytes) else self._built(item) for item in batch]
        raws = [self._built(item) for item in batch]
        if self.redaction is not None:
            try:
                return list(self.redaction.redact_batch(raws))
            except Exception:
                log.warning("audit: the redaction process failed; redacting here", exc_info=True)
        return [redact_one(raw, self.redactor) for raw in raws]

    def _redacted(self, item: Pending) -> Raw:
        return redact_one(self._built(item), self.redactor)

    def _built(self, item: Pending | bytes) -> Raw:
        if isinstance(item, bytes):
            return unpack(item)
        if callable(item):
            try:
                item = item()
            except Exception:  # a bug in record building: still a record, and the chain goes on
                log.exception("audit: could not build a record")
                item = ("unknown", datetime.now(UTC), {"record_build_failed": True})
        return item

    def _append(self, batch: list[Packed]) -> None:  # on the thread
        if self.redaction is not None and self._packs:
            try:
                self.written += self.redaction.append_batch(batch, urgent=self._worker.behind)
                return
            except ChildFailed:
                log.warning("audit: the audit process failed; appending here", exc_info=True)
            records = [redact_one(unpack(raw), self.redactor) for raw in batch]
        else:
            records = [unpack(raw) for raw in batch]
        self.audit.append(records)
        self.written += len(records)
