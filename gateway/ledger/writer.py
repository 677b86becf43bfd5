"""Ledger writers: rows leave the hot path and are written in batches by a background thread.

``record`` (one request's facts) and ``write`` (ready rows) only enqueue; the thread builds the
rows and inserts whatever has accumulated in one transaction per batch, so a batch is written
whole or not at all; on a database error it keeps the batch and tries again with backoff.
``close`` (and the gateway's ``aclose``) waits until every enqueued row is written: a clean stop
loses no row.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Protocol

from sqlalchemy import Engine

from gateway.background import BatchOwner, BatchWorker
from gateway.hooks import RequestFacts
from gateway.ledger.bulk_insert import BulkInsert
from gateway.ledger.insert_process import InsertProcess, pack_rows, unpack_rows
from gateway.ledger.rows import (
    ROW_FIELDS,
    LedgerRow,
    RowValues,
    ledger_rows,
    ledger_values,
    pack,
)
from gateway.ledger.tables import ledger
from gateway.stored_ids import present
from kernel.child_worker import ChildFailed

log = logging.getLogger("gateway.ledger")

Item = RequestFacts | list[LedgerRow] | bytes  # what the thread is handed


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

    def write(self, rows: Sequence[LedgerRow]) -> None:
        self.rows.extend(rows)

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


class LedgerWriter(BatchOwner):
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
        inserts: InsertProcess | None = None,
    ) -> None:
        """With ``inserts`` (what ``loregate serve`` passes) the rows are packed where they are
        written and inserted by a child process (``insert_process``); if the child dies, the
        thread inserts the batch itself, without the rows the child had already committed."""
        self._engine = engine
        self.inserts = inserts
        self.batch_size = batch_size
        self.max_delay_s = max_delay_s
        self.retry_backoff_s = retry_backoff_s
        self.written = 0
        self._bulk: BulkInsert | None = None  # compiled for the engine's dialect at first use
        # items are requests, row lists or packed rows; each batch becomes one transaction
        self._worker: BatchWorker[Item, LedgerRow | bytes] = BatchWorker(
            self._insert,
            prepare=self._rows,
            name="loregate-ledger",
            batch_size=batch_size,
            max_delay_s=max_delay_s,
            retry_backoff_s=retry_backoff_s,
            log=log,
            failed="ledger: writing %d rows failed (attempt %d)",
            giving_up="ledger: giving up on %d rows at shutdown",
        )

    @property
    def failures(self) -> int:
        return self._worker.failures

    def engine(self) -> Engine:
        if not isinstance(self._engine, Engine):
            self._engine = self._engine()
        return self._engine

    # Producer side ---------------------------------------------------------------------------
    def record(self, facts: RequestFacts) -> None:
        if self.inserts is not None:
            values = ledger_values(facts)
            self.write_values(values, pack(values))
        else:
            self._put(facts)

    def write(self, rows: Sequence[LedgerRow]) -> None:
        if rows:
            self._put(list(rows) if self.inserts is None else pack_rows(rows))

    def write_values(self, values: Sequence[RowValues], packed: bytes) -> None:
        """Rows as ``ledger_values`` makes them, and ``packed``, their ``pack``: only the
        bytes go to an insert process; the thread's own inserts get the rows."""
        if values:
            self._put(packed if self.inserts is not None else [LedgerRow(*v) for v in values])

    def _put(self, item: Item) -> None:
        if self._worker.closed:
            raise RuntimeError("the ledger writer is closed")
        self._worker.put(item)

    # Writer thread ---------------------------------------------------------------------------
    def _rows(self, items: list[Item]) -> list[LedgerRow | bytes]:
        batch: list[LedgerRow | bytes] = []
        for item in items:
            if isinstance(item, bytes):
                batch.append(item)
            elif isinstance(item, RequestFacts):
                try:
                    batch.extend(ledger_rows(item))
                except Exception:  # a bug in row building must not take the batch down
                    log.exception("ledger: could not build the rows of a request")
            else:
                batch.extend(item)
        return batch

    def _insert(self, batch: list[LedgerRow | bytes]) -> None:
        packed = [item for item in batch if isinstance(item, bytes)]
        rows = [item for item in batch if not isinstance(item, bytes)]
        if packed and self.inserts is not None:
            try:
                self.written += self.inserts.insert(packed, urgent=self._worker.behind)
                packed = []
            except ChildFailed:
                log.warning("ledger: the insert process failed; inserting here", exc_info=True)
        if packed:
            rows += self._not_yet_stored(unpack_rows(packed))
        if rows:
            engine = self.engine()
            if self._bulk is None:
                self._bulk = BulkInsert(ledger, ROW_FIELDS, engine.dialect)
            with engine.begin() as conn:
                self._bulk.execute(conn, rows)
        self.written += len(rows)

    def _not_yet_stored(self, rows: list[LedgerRow]) -> list[LedgerRow]:
        """``rows`` without those of requests already in the ledger (a child that died after
        its commit, before its answer, wrote them)."""
        ids = list({row.request_id for row in rows})
        stored = present(self.engine(), ledger.c.request_id, ids)
        return [row for row in rows if row.request_id not in stored]

    def _release(self) -> None:
        if self.inserts is not None:
            self.inserts.close()
