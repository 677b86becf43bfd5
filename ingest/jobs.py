"""Ingestion jobs as records: started by the API, run in a background thread, polled by id.

A job's row is updated as it runs (files done, chunks written, at most twice a second) and
holds the report at the end. A job whose process died stays ``running`` with an old
heartbeat; reading it then says ``interrupted`` (run it again: ingestion is idempotent).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine

from ingest.registry import jobs, now
from ingest.report import IngestReport
from ingest.tasks import JobTally

QUEUED, RUNNING, SUCCEEDED, COMPLETED_WITH_ERRORS, FAILED, INTERRUPTED = (
    "queued",
    "running",
    "succeeded",
    "completed_with_errors",
    "failed",
    "interrupted",
)
STALE_AFTER = timedelta(minutes=2)
MAX_ERRORS_KEPT = 500


@dataclass(frozen=True)
class JobRecord:
    id: str
    collection: str
    scope: str | None
    request: dict[str, Any]
    status: str
    total_files: int
    done_files: int
    chunks: int
    counts: dict[str, int]
    errors: list[dict[str, Any]]
    error: str | None
    index_version: str | None
    created_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    heartbeat_at: datetime | None

    def as_json(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        for key in ("created_at", "started_at", "finished_at", "heartbeat_at"):
            out[key] = out[key].isoformat() if out[key] is not None else None
        return out


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        from datetime import UTC

        return value.replace(tzinfo=UTC)
    return value


class JobStore:
    def __init__(self, engine: Engine, clock: Callable[[], datetime] = now) -> None:
        self.engine = engine
        self.clock = clock

    def create(self, collection: str, request: dict[str, Any], created_by: str) -> str:
        job_id = uuid.uuid4().hex
        with self.engine.begin() as conn:
            conn.execute(
                jobs.insert().values(
                    id=job_id,
                    collection=collection,
                    scope=None,
                    request=request,
                    status=QUEUED,
                    total_files=0,
                    done_files=0,
                    chunks=0,
                    counts={},
                    errors=[],
                    error=None,
                    index_version=None,
                    created_by=created_by,
                    created_at=self.clock(),
                    started_at=None,
                    finished_at=None,
                    heartbeat_at=self.clock(),
                )
            )
        return job_id

    def claim(self) -> JobRecord | None:
        """Take the oldest queued job for this worker (one winner among competing workers)."""
        with self.engine.begin() as conn:
            candidates = conn.execute(
                sa.select(jobs.c.id)
                .where(jobs.c.status == QUEUED)
                .order_by(jobs.c.created_at)
                .limit(5)
            ).all()
            for (job_id,) in candidates:
                t = self.clock()
                taken = conn.execute(
                    jobs.update()
                    .where(jobs.c.id == job_id, jobs.c.status == QUEUED)
                    .values(status=RUNNING, started_at=t, heartbeat_at=t)
                )
                if taken.rowcount == 1:
                    break
            else:
                return None
        return self.get(job_id)

    def _update(self, job_id: str, **values: Any) -> None:
        with self.engine.begin() as conn:
            conn.execute(jobs.update().where(jobs.c.id == job_id).values(**values))

    def started(self, job_id: str, total_files: int) -> None:
        t = self.clock()
        self._update(job_id, status=RUNNING, total_files=total_files, started_at=t, heartbeat_at=t)

    def progressed(self, job_id: str, done_files: int, chunks: int) -> None:
        self._update(job_id, done_files=done_files, chunks=chunks, heartbeat_at=self.clock())

    def finished(self, job_id: str, report: IngestReport) -> None:
        errors = [f.__dict__ for f in report.failed]
        self._result(job_id, report.files, report.files, report.chunks_written, report.counts(),
                     errors, report.index_version, scope=report.scope)  # fmt: skip

    def planned(self, job_id: str, total_files: int, scope: str) -> None:
        """A queued job's tasks are written (``ingest.task_queue``)."""
        t = self.clock()
        with self.engine.begin() as conn:
            conn.execute(
                jobs.update()
                .where(jobs.c.id == job_id, jobs.c.status == QUEUED)
                .values(status=RUNNING, started_at=t)
            )
            conn.execute(
                jobs.update()
                .where(jobs.c.id == job_id)
                .values(total_files=total_files, scope=scope, heartbeat_at=t)
            )

    def finished_tally(
        self, job_id: str, tally: JobTally, deleted: int, index_version: str
    ) -> None:
        """A queued job's result, summed from its task rows."""
        counts = {"added": 0, "updated": 0, "unchanged": 0, "deleted": deleted, "failed": 0}
        counts.update({k: v for k, v in tally.outcomes.items() if k != "deleted"})
        self._result(job_id, tally.finished, tally.total, tally.chunks, counts, tally.errors,
                     index_version)  # fmt: skip

    def _result(
        self,
        job_id: str,
        done: int,
        total: int,
        chunks: int,
        counts: dict[str, int],
        errors: list[dict[str, Any]],
        index_version: str,
        **more: Any,
    ) -> None:
        t = self.clock()
        self._update(
            job_id,
            status=COMPLETED_WITH_ERRORS if errors else SUCCEEDED,
            done_files=done,
            total_files=total,
            chunks=chunks,
            counts=counts,
            errors=errors[:MAX_ERRORS_KEPT],
            index_version=index_version,
            finished_at=t,
            heartbeat_at=t,
            **more,
        )

    def failed(self, job_id: str, error: str) -> None:
        t = self.clock()
        self._update(job_id, status=FAILED, error=error, finished_at=t, heartbeat_at=t)

    def get(self, job_id: str) -> JobRecord | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(jobs).where(jobs.c.id == job_id)).first()
        return None if row is None else self._record(row)

    def recent(self, limit: int = 20) -> list[JobRecord]:
        """The newest jobs first (the console's list)."""
        query = sa.select(jobs).order_by(jobs.c.created_at.desc()).limit(limit)
        with self.engine.connect() as conn:
            return [self._record(row) for row in conn.execute(query)]

    def _record(self, row: Any) -> JobRecord:
        data = dict(row._mapping)
        for key in ("created_at", "started_at", "finished_at", "heartbeat_at"):
            data[key] = _aware(data[key])
        record = JobRecord(**data)
        beat = record.heartbeat_at
        if record.status in (QUEUED, RUNNING) and beat and self.clock() - beat > STALE_AFTER:
            record = JobRecord(**{**record.__dict__, "status": INTERRUPTED})
        return record


class JobProgress:
    """``Progress`` that writes to the job's row (throttled)."""

    def __init__(self, store: JobStore, job_id: str, every_seconds: float = 0.5) -> None:
        self.store = store
        self.job_id = job_id
        self.every = every_seconds
        self.done = 0
        self.chunks = 0
        self._last = 0.0

    def start(self, total_files: int) -> None:
        self.store.started(self.job_id, total_files)

    def file_done(self, path: str, outcome: str) -> None:
        self.done += 1
        self._maybe_write()

    def chunks_written(self, n: int) -> None:
        self.chunks += n
        self._maybe_write()

    def _maybe_write(self) -> None:
        t = time.monotonic()
        if t - self._last >= self.every:
            self._last = t
            self.store.progressed(self.job_id, self.done, self.chunks)
