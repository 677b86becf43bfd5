"""The audit writer: redacts and appends records in a background thread, off the hot path.

``submit`` only enqueues. The thread redacts each record (presidio is CPU work: it must not
run on the event loop) and appends whatever has accumulated as one chained batch. On a
database error it keeps the batch and retries with backoff; ``close`` waits until everything
submitted is written, so a clean stop loses no record.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from datetime import datetime
from typing import Any

from gateway.governance.audit import AuditLog
from gateway.governance.audit_record import JsonRedactor, redact_record

log = logging.getLogger("gateway.audit")

_STOP = object()
Raw = tuple[str, datetime, dict[str, Any]]


class _Yielding:
    """Gives the GIL up between two strings, so redaction (pure-Python CPU work) in this
    thread delays the event loop by one string's work at most, not by a whole record's."""

    def __init__(self, inner: JsonRedactor) -> None:
        self.inner = inner

    def redact(self, text: str) -> str:
        time.sleep(0)
        return self.inner.redact(text)

    def redact_json(self, value: Any, key: str | None = None) -> Any:
        if isinstance(value, str):
            time.sleep(0)
        if isinstance(value, dict):
            if value.get("type") == "base64":
                return self.inner.redact_json(value, key)
            return {k: self.redact_json(v, k) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.redact_json(v, key) for v in value]
        return self.inner.redact_json(value, key)


class AuditWriter:
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
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._pending = 0
        self._cond = threading.Condition()
        self._closed = False
        self.written = 0
        self.failures = 0
        self._thread = threading.Thread(target=self._run, name="loregate-audit", daemon=True)
        self._thread.start()

    def submit(self, raw: Raw) -> None:
        if self._closed:  # a request that finished after shutdown began: write it in line
            self.audit.append([self._redacted(raw)])
            self.written += 1
            return
        with self._cond:
            self._pending += 1
        self._queue.put(raw)

    def flush(self, timeout: float | None = None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while self._pending:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._cond.wait(remaining)
        return True

    def close(self, timeout: float | None = None) -> None:
        if self._closed:
            return
        self._closed = True
        self._queue.put(_STOP)
        self._thread.join(timeout)

    async def aclose(self) -> None:
        await asyncio.to_thread(self.close)

    def _redacted(self, raw: Raw) -> Raw:
        request_id, at, payload = raw
        try:
            return request_id, at, redact_record(payload, _Yielding(self.redactor))
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

    def _run(self) -> None:
        stopping = False
        while not stopping:
            item = self._queue.get()
            if item is _STOP:
                break
            batch: list[Raw] = [self._redacted(item)]  # type: ignore[arg-type]
            deadline = time.monotonic() + self.max_delay_s
            while len(batch) < self.batch_size:
                try:
                    more = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
                if more is _STOP:
                    stopping = True
                    break
                batch.append(self._redacted(more))  # type: ignore[arg-type]
            self._commit(batch, stopping)
        rest: list[Raw] = []
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is not _STOP:
                rest.append(self._redacted(item))  # type: ignore[arg-type]
        if rest:
            self._commit(rest, True)

    def _commit(self, batch: list[Raw], stopping: bool) -> None:
        attempt = 0
        while True:
            try:
                self.audit.append(batch)
                self.written += len(batch)
                break
            except Exception:
                attempt += 1
                self.failures += 1
                log.exception(
                    "audit: appending %d records failed (attempt %d)", len(batch), attempt
                )
                if stopping and attempt >= 5:
                    log.error("audit: giving up on %d records at shutdown", len(batch))
                    break
                time.sleep(min(30.0, self.retry_backoff_s * 2 ** min(attempt, 6)))
        with self._cond:
            self._pending -= len(batch)
            self._cond.notify_all()
