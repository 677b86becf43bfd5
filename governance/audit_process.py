"""The audit log's CPU work in a worker process, off the serving process's interpreter lock.

Redacting a record (presidio's recognisers, pure-Python regex work) holds the GIL; in the
audit writer's thread it made every request of a busy worker wait for the lock now and then,
which was most of the gateway's p99 (benchmarks/gateway_overhead.py). Here the writer's thread
only sends each batch of raw records through an in-memory pipe to one child process, which
redacts them with its own ``PiiRedactor``. With an ``engine_factory`` (what ``loregate serve``
passes) the child also chains and appends them (canonical JSON, hashes, INSERTs through its own
engine) and answers with how many it wrote: the serving process then spends on the audit log
only the pickling of the batch, so under sustained load the writer keeps up with the requests
instead of falling behind them (and growing in memory). Without one it sends the redacted
batch back and the thread appends it. Raw records exist only in the two processes' memory and
the pipe between them: nothing unredacted touches the disk.

The child (``kernel.child_worker``) is started on first use and again if it dies; a batch it
could not redact or append raises, so the writer retries it (its usual backoff), and a record
whose redaction failed is still written as its skeleton only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Engine

from governance.audit import AuditLog
from governance.audit_record import JsonRedactor, redact_record
from kernel.child_worker import ChildWorker

log = logging.getLogger("gateway.audit")

Raw = tuple[str, datetime, dict[str, Any]]
# A raw record as the serving side hands it over: JSON bytes (``pack``), or the tuple itself.
Packed = bytes | Raw


def pack(raw: Raw) -> Packed:
    """``raw`` as JSON bytes: orjson makes them on the submitting thread in about a
    microsecond, and a batch of bytes pickles as a copy, so the writer's thread holds the
    interpreter lock for almost nothing per record (building and pickling the records there
    was most of what the audit log cost a busy event loop). A record JSON cannot hold as it
    is (an integer beyond 64 bits) stays a tuple."""
    request_id, at, payload = raw
    try:
        return orjson.dumps((request_id, at.isoformat(), payload), option=orjson.OPT_NON_STR_KEYS)
    except (orjson.JSONEncodeError, TypeError):
        return raw


def unpack(item: Packed) -> Raw:
    if isinstance(item, bytes):
        request_id, at, payload = orjson.loads(item)
        return request_id, datetime.fromisoformat(at), payload
    return item


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


class AppendFailed(RuntimeError):
    """The child could not append a batch (its database): the writer retries it."""


def _setup(
    phone_regions: tuple[str, ...],
    threshold: float,
    engine_factory: Callable[[], Engine] | None,
) -> Callable[[list[Packed]], Any]:
    """In the child: what answers each batch. It redacts the batch and sends it back, or
    appends it and sends back how many records it wrote (or why it could not)."""
    from governance.redaction import PiiRedactor

    redactor = PiiRedactor(phone_regions=phone_regions, score_threshold=threshold)
    _ = redactor.analyzer  # load presidio before the first batch, not during it
    audit = AuditLog(engine_factory()) if engine_factory is not None else None

    def handle(batch: list[Packed]) -> Any:
        redacted = [redact_one(unpack(item), redactor) for item in batch]
        if audit is None:
            return redacted
        try:
            audit.append(redacted)
        except Exception as exc:  # the database: the parent retries the batch
            return AppendFailed(f"{type(exc).__name__}: {exc}")
        return len(redacted)

    return handle


class ProcessRedaction:
    """Redacts batches of raw audit records in one child process (``redact_batch``)."""

    def __init__(
        self,
        *,
        phone_regions: tuple[str, ...] | None = None,
        score_threshold: float = 0.35,
        start_timeout_s: float = 120.0,
        engine_factory: Callable[[], Engine] | None = None,
    ) -> None:
        """``engine_factory`` (picklable: a module-level function or a ``partial`` of one):
        the child appends the batches itself through the engine it makes."""
        from governance.redaction import DEFAULT_PHONE_REGIONS

        self.phone_regions = phone_regions or DEFAULT_PHONE_REGIONS
        self.score_threshold = score_threshold
        self.engine_factory = engine_factory
        self.child = ChildWorker(
            _setup,
            (self.phone_regions, score_threshold, engine_factory),
            name="loregate-audit-redaction",
            start_timeout_s=start_timeout_s,
        )

    @property
    def pid(self) -> int | None:
        return self.child.pid

    def start(self) -> None:
        """Start the child now (else the first batch does)."""
        self.child.start()

    @property
    def appends(self) -> bool:
        """The child appends the batches itself (``append_batch``)."""
        return self.engine_factory is not None

    def redact_batch(self, batch: list[Raw]) -> list[Raw]:
        """The batch redacted by the child (raises if the child failed: the writer retries)."""
        out: list[Raw] = self.child.exchange(batch)
        return out

    def append_batch(self, batch: list[Packed], *, urgent: bool = False) -> int:
        """Redact and append ``batch`` in the child; the number of records written.
        ``AppendFailed``: its database refused (retry); ``ChildFailed``: it is gone.
        ``urgent``: the writer is behind (``ChildWorker.exchange``)."""
        return int(self.child.exchange(batch, urgent=urgent))

    def close(self) -> None:
        self.child.close()
