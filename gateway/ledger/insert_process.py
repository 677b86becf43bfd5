"""The ledger's inserts in a worker process (``kernel.child_worker``), off the serving
process's interpreter lock.

Inserting a batch on the writer's thread (the database driver takes the lock back after every
row) made the event loop wait for the lock at each of its syscalls while a batch was written:
most of what the one-request-at-a-time p99 added (benchmarks/gateway_overhead.py). Here each
request's rows are packed as JSON bytes where they are written (orjson, about a microsecond,
on the caller's thread), the writer's thread sends each batch of them to the child and waits
without the lock, and the child inserts the batch in one transaction through its own engine
(``bulk_insert``) and answers with the number of rows, or ``InsertFailed`` when its database
refused (the writer then retries the batch, as it does its own).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import orjson
from sqlalchemy import Engine

from gateway.ledger.bulk_insert import BulkInsert
from gateway.ledger.rows import ROW_FIELDS, LedgerRow, pack, row_from_json, row_values
from gateway.ledger.tables import ledger
from kernel.child_worker import ChildWorker


class InsertFailed(RuntimeError):
    """The child could not insert a batch (its database): the writer retries it."""


def pack_rows(rows: Sequence[LedgerRow]) -> bytes:
    return pack([row_values(row) for row in rows])


def unpack_rows(packed: Sequence[bytes]) -> list[LedgerRow]:
    return [row_from_json(row) for blob in packed for row in orjson.loads(blob)]


def _setup(engine_factory: Callable[[], Engine]) -> Callable[[list[bytes]], Any]:
    """In the child: what inserts each batch (the number of rows, or why it could not)."""
    engine = engine_factory()
    bulk = BulkInsert(ledger, ROW_FIELDS, engine.dialect)

    def handle(packed: list[bytes]) -> Any:
        try:
            rows = unpack_rows(packed)
            with engine.begin() as db:
                bulk.execute(db, rows)
        except Exception as exc:  # the database: the parent retries the batch
            return InsertFailed(f"{type(exc).__name__}: {exc}")
        return len(rows)

    return handle


class InsertProcess:
    """Inserts batches of packed ledger rows in one child process."""

    def __init__(self, engine_factory: Callable[[], Engine], start_timeout_s: float = 60.0):
        """``engine_factory`` must pickle (a module-level function or a ``partial`` of one)."""
        self.child = ChildWorker(
            _setup, (engine_factory,), name="loregate-ledger", start_timeout_s=start_timeout_s
        )

    def start(self) -> None:
        """Start the child now (else the first batch does)."""
        self.child.start()

    def insert(self, packed: list[bytes], *, urgent: bool = False) -> int:
        """Insert the rows of ``packed`` in the child; how many it wrote. ``InsertFailed``:
        its database refused (retry); ``ChildFailed``: it is gone (the rows may or may not
        have been committed). ``urgent``: the writer is behind (``ChildWorker.exchange``)."""
        return int(self.child.exchange(packed, urgent=urgent))

    def close(self) -> None:
        self.child.close()
