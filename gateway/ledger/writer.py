"""Ledger writers: rows leave the hot path and are written in batches by a background thread.

``record`` (one request's facts) and ``write`` (ready rows) only enqueue; the thread builds the
rows and inserts whatever has accumulated in one transaction per batch, so a batch is written
whole or not at all; on a database error it keeps the batch and tries again with backoff.
``close`` (and the gateway's ``aclose``) waits until every enqueued row is written: a clean stop
loses no row.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from typing import Protocol, cast

from sqlalchemy import Engine

from gateway.ledger.rows import LedgerRow, RequestFacts, ledger_rows
from gateway.ledger.tables import ledger

log = logging.getLogger("gateway.ledger")

_STOP = object()


class LedgerSink(Protocol):
    def record(self, facts: RequestFacts) -> None:
        """Accept what one request went through (never blocks on I/O)."""
        ...

    async def aclose(self) -> None:
        """Write everything accepted so far, then stop."""
        ...


class NullLedger:
    def record(self, facts: RequestFacts) -> None:
        return None

    async def aclose(self) -> None:
        return None


class MemoryLedger:
    """Keeps rows in a list (tests, and tools that only want the figures)."""

    def __init__(self) -> None:
        self.rows: list[LedgerRow] = []

    def record(self, facts: RequestFacts) -> None:
        self.rows.extend(ledger_rows(facts))

    async def aclose(self) -> None:
        return None

    def requests(self) -> list[LedgerRow]:
        return [r for r in self.rows if r.kind == "request"]

    def attempts(self, request_id: str | None = None) -> list[LedgerRow]:
        return [
            r
            for r in self.rows
            if r.kind == "attempt" and (request_id is None or r.request_id == request_id)
        ]


class LedgerWriter:
    """Batched background writer into the ``gateway_ledger`` table of ``engine``.

    ``engine`` may be a function that returns it: it is then called by the writer thread at the
    first write (so a database that is down at start-up delays rows instead of the start).
    """

    def __init__(
        self,
        engine: Engine | Callable[[], Engine],
        *,
        batch_size: int = 500,
        max_delay_s: float = 0.25,
        retry_backoff_s: float = 0.5,
    ) -> None:
        self._engine = engine
        self.batch_size = batch_size
        self.max_delay_s = max_delay_s
        self.retry_backoff_s = retry_backoff_s
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._pending = 0  # items (requests or row lists) enqueued and not yet committed
        self._cond = threading.Condition()
        self._closed = False
        self.written = 0
        self.failures = 0
        self._thread = threading.Thread(target=self._run, name="loregate-ledger", daemon=True)
        self._thread.start()

    def engine(self) -> Engine:
        if not isinstance(self._engine, Engine):
            self._engine = self._engine()
        return self._engine

    # Producer side ---------------------------------------------------------------------------
    def record(self, facts: RequestFacts) -> None:
        self._put(facts)

    def write(self, rows: Sequence[LedgerRow]) -> None:
        if rows:
            self._put(list(rows))

    def _put(self, item: RequestFacts | list[LedgerRow]) -> None:
        if self._closed:
            raise RuntimeError("the ledger writer is closed")
        with self._cond:
            self._pending += 1
        self._queue.put(item)

    def flush(self, timeout: float | None = None) -> bool:
        """Block until every row enqueued so far is committed (True) or ``timeout`` passes."""
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

    # Writer thread ---------------------------------------------------------------------------
    def _run(self) -> None:
        stopping = False
        while not stopping:
            item = self._queue.get()
            if item is _STOP:
                break
            items = [item]
            deadline = time.monotonic() + self.max_delay_s
            while len(items) < self.batch_size:
                try:
                    more = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
                if more is _STOP:
                    stopping = True
                    break
                items.append(more)
            self._commit(items, stopping)
        # Drain whatever arrived with or after the stop marker.
        rest: list[object] = []
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is not _STOP:
                rest.append(item)
        if rest:
            self._commit(rest, True)

    def _commit(self, items: list[object], stopping: bool) -> None:
        batch: list[LedgerRow] = []
        for item in items:
            if isinstance(item, RequestFacts):
                try:
                    batch.extend(ledger_rows(item))
                except Exception:  # a bug in row building must not take the batch down
                    log.exception("ledger: could not build the rows of a request")
            else:
                batch.extend(cast(list[LedgerRow], item))
        attempt = 0
        while True:
            try:
                if batch:
                    with self.engine().begin() as conn:
                        conn.execute(ledger.insert(), [row.as_dict() for row in batch])
                self.written += len(batch)
                break
            except Exception:
                attempt += 1
                self.failures += 1
                log.exception("ledger: writing %d rows failed (attempt %d)", len(batch), attempt)
                if stopping and attempt >= 5:
                    log.error("ledger: giving up on %d rows at shutdown", len(batch))
                    break
                time.sleep(min(30.0, self.retry_backoff_s * 2 ** min(attempt, 6)))
        with self._cond:
            self._pending -= len(items)
            self._cond.notify_all()
