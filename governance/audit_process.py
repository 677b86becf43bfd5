"""Audit redaction in a worker process: the CPU-heavy part of the audit log off the serving
process's interpreter lock.

Redacting a record (presidio's recognisers, pure-Python regex work) holds the GIL; in the
audit writer's thread it made every request of a busy worker wait for the lock now and then,
which was most of the gateway's p99 (benchmarks/gateway_overhead.py). Here the writer's thread
only sends each batch of raw records through an in-memory pipe to one child process, which
redacts them with its own ``PiiRedactor`` and sends them back; the thread waits on the pipe
(lock released), then chains and appends them as before. Raw records exist only in the two
processes' memory and the pipe between them: nothing unredacted touches the disk.

The child is started with ``spawn`` (never ``fork``: the server has threads) on first use and
again if it dies; a batch it could not redact raises, so the writer retries it (its usual
backoff), and a record whose redaction failed is still written as its skeleton only.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
from datetime import datetime
from multiprocessing.connection import Connection
from typing import Any

from governance.audit_record import JsonRedactor, redact_record

log = logging.getLogger("gateway.audit")

Raw = tuple[str, datetime, dict[str, Any]]


def redact_one(item: Raw, redactor: JsonRedactor) -> Raw:
    """``item`` with its content redacted; on any failure its skeleton without content."""
    request_id, at, payload = item
    try:
        return request_id, at, redact_record(payload, redactor)
    except Exception:  # never write unredacted content: keep only the skeleton
        log.exception("audit: redaction failed for %s; content dropped", request_id)
        return (
            request_id,
            at,
            {**payload, "request": None, "response": None, "error": None, "redaction_failed": True},
        )


def _serve(conn: Connection, phone_regions: tuple[str, ...], threshold: float) -> None:
    """The child: redact each batch it receives and send it back, until the pipe closes."""
    from governance.redaction import PiiRedactor

    redactor = PiiRedactor(phone_regions=phone_regions, score_threshold=threshold)
    _ = redactor.analyzer  # load presidio before the first batch, not during it
    conn.send("ready")
    while True:
        try:
            batch: list[Raw] = conn.recv()
        except (EOFError, OSError):
            return
        conn.send([redact_one(item, redactor) for item in batch])


class ProcessRedaction:
    """Redacts batches of raw audit records in one child process (``redact_batch``)."""

    def __init__(
        self,
        *,
        phone_regions: tuple[str, ...] | None = None,
        score_threshold: float = 0.35,
        start_timeout_s: float = 120.0,
    ) -> None:
        from governance.redaction import DEFAULT_PHONE_REGIONS

        self.phone_regions = phone_regions or DEFAULT_PHONE_REGIONS
        self.score_threshold = score_threshold
        self.start_timeout_s = start_timeout_s
        self._conn: Connection | None = None
        self._process: multiprocessing.process.BaseProcess | None = None
        self._lock = threading.Lock()

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def start(self) -> None:
        """Start the child now (else the first batch does)."""
        with self._lock:
            self._ensure()

    def _ensure(self) -> Connection:
        if self._conn is not None and self._process is not None and self._process.is_alive():
            return self._conn
        self._stop()
        ctx = multiprocessing.get_context("spawn")
        ours, theirs = ctx.Pipe()
        process = ctx.Process(
            target=_serve,
            args=(theirs, self.phone_regions, self.score_threshold),
            name="loregate-audit-redaction",
            daemon=True,
        )
        process.start()
        theirs.close()
        if not ours.poll(self.start_timeout_s) or ours.recv() != "ready":
            process.kill()
            raise RuntimeError("the audit redaction process did not start")
        self._conn, self._process = ours, process
        return ours

    def redact_batch(self, batch: list[Raw]) -> list[Raw]:
        """The batch redacted by the child (raises if the child failed: the writer retries)."""
        with self._lock:
            conn = self._ensure()
            try:
                conn.send(batch)
                out: list[Raw] = conn.recv()
            except (EOFError, OSError):
                self._stop()
                raise
        return out

    def _stop(self) -> None:
        if self._conn is not None:
            self._conn.close()
        if self._process is not None:
            self._process.join(5)
            if self._process.is_alive():
                self._process.kill()
        self._conn = self._process = None

    def close(self) -> None:
        with self._lock:
            self._stop()
