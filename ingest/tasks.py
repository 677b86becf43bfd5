"""A queued job's per-document tasks as rows: the truth of what a job has done.

A job on the task queue becomes one row per source file (``ingest_tasks``), written before any
message is sent. A worker takes a row (``claim``), ingests the file through the pipeline and
marks the row done with its outcome and chunk count (``finish``); the job's progress, chunk
count, errors and final status are aggregated from its rows, never counted in memory.

Delivery is at least once: a message redelivered after its row is done is dropped (``claim``
says no), and a document re-run after a crash writes the same point ids (the pipeline upserts
them), so neither a lost nor a duplicated chunk can follow. A document whose worker died
``MAX_ATTEMPTS`` times is marked failed instead of killing workers forever.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine

from ingest.registry import metadata, now

tasks = sa.Table(
    "ingest_tasks",
    metadata,
    sa.Column("job_id", sa.String(32), primary_key=True),
    sa.Column("seq", sa.Integer(), primary_key=True),
    sa.Column("path", sa.String(2000), nullable=False),
    sa.Column("rel", sa.String(1000), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("outcome", sa.String(32), nullable=True),
    sa.Column("chunks", sa.Integer(), nullable=False),
    sa.Column("counts", sa.JSON(), nullable=True),
    sa.Column("attempts", sa.Integer(), nullable=False),
    sa.Column("worker", sa.String(200), nullable=True),
    sa.Column("error", sa.JSON(), nullable=True),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

PENDING, RUNNING, DONE, FAILED = "pending", "running", "done", "failed"
MAX_ATTEMPTS = 3
"""A document whose worker died this many times is failed, not handed out again."""
_GAVE_UP = f"a worker died (or failed) on this document {MAX_ATTEMPTS} times; not retried"


@dataclass(frozen=True)
class Task:
    job_id: str
    seq: int
    path: str
    rel: str
    attempts: int


@dataclass(frozen=True)
class JobTally:
    """A job's progress, aggregated from its task rows."""

    total: int
    finished: int
    chunks: int
    outcomes: dict[str, int]
    errors: list[dict[str, Any]]

    @property
    def complete(self) -> bool:
        return self.total == self.finished


class TaskStore:
    def __init__(self, engine: Engine, clock: Callable[[], datetime] = now) -> None:
        self.engine = engine
        self.clock = clock

    def plan(self, job_id: str, files: Sequence[tuple[str, str]]) -> int:
        """Write one row per ``(path, rel)``, once: a planner run again after a crash keeps
        the rows there are. Returns how many rows the job has."""
        with self.engine.begin() as conn:
            have = conn.execute(
                sa.select(sa.func.count()).select_from(tasks).where(tasks.c.job_id == job_id)
            ).scalar_one()
            if have:
                return int(have)
            blank: dict[str, Any] = {
                "status": PENDING,
                "outcome": None,
                "chunks": 0,
                "counts": None,
            }
            blank |= {"attempts": 0, "worker": None, "error": None, "updated_at": self.clock()}
            rows = [
                {"job_id": job_id, "seq": n, "path": path, "rel": rel, **blank}
                for n, (path, rel) in enumerate(files)
            ]
            for start in range(0, len(rows), 1000):
                conn.execute(tasks.insert(), rows[start : start + 1000])
        return len(rows)

    def unfinished(self, job_id: str) -> list[int]:
        """The rows not done yet (what a re-run planner sends again)."""
        with self.engine.connect() as conn:
            return list(
                conn.execute(
                    sa.select(tasks.c.seq)
                    .where(tasks.c.job_id == job_id, tasks.c.status.in_([PENDING, RUNNING]))
                    .order_by(tasks.c.seq)
                ).scalars()
            )

    def claim(self, job_id: str, seq: int, worker: str) -> Task | None:
        """Take a row to work on; ``None`` when it is already finished (a redelivery). A row
        left ``running`` by a dead worker is taken again, up to ``MAX_ATTEMPTS``."""
        with self.engine.begin() as conn:
            taken = conn.execute(
                tasks.update()
                .where(
                    tasks.c.job_id == job_id,
                    tasks.c.seq == seq,
                    tasks.c.status.in_([PENDING, RUNNING]),
                    tasks.c.attempts < MAX_ATTEMPTS,
                )
                .values(
                    status=RUNNING,
                    attempts=tasks.c.attempts + 1,
                    worker=worker,
                    updated_at=self.clock(),
                )
            )
            if taken.rowcount != 1:
                conn.execute(
                    tasks.update()
                    .where(
                        tasks.c.job_id == job_id,
                        tasks.c.seq == seq,
                        tasks.c.status.in_([PENDING, RUNNING]),
                    )
                    .values(
                        status=FAILED,
                        outcome="failed",
                        counts={"failed": 1},
                        error={"code": "worker_died", "message": _GAVE_UP},
                        updated_at=self.clock(),
                    )
                )
                return None
            row = conn.execute(
                sa.select(tasks).where(tasks.c.job_id == job_id, tasks.c.seq == seq)
            ).one()
        return Task(row.job_id, row.seq, row.path, row.rel, row.attempts)

    def finish(
        self,
        task: Task,
        outcome: str,
        chunks: int,
        counts: dict[str, int] | None = None,
        error: dict[str, Any] | None = None,
    ) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                tasks.update()
                .where(tasks.c.job_id == task.job_id, tasks.c.seq == task.seq)
                .values(
                    status=FAILED if error else DONE,
                    outcome=outcome,
                    chunks=chunks,
                    counts=counts,
                    error=error,
                    updated_at=self.clock(),
                )
            )

    def progress(self, job_id: str) -> tuple[int, int, int]:
        """``(tasks, finished, chunks written)`` of a job, in one aggregate query."""
        finished = sa.case((tasks.c.status.in_([DONE, FAILED]), 1), else_=0)
        with self.engine.connect() as conn:
            total, done, chunks = conn.execute(
                sa.select(
                    sa.func.count(), sa.func.sum(finished), sa.func.sum(tasks.c.chunks)
                ).where(tasks.c.job_id == job_id)
            ).one()
        return int(total), int(done or 0), int(chunks or 0)

    def tally(self, job_id: str, max_errors: int = 500) -> JobTally:
        """The job's result, summed over its rows (once, when it ends)."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(
                    tasks.c.status, tasks.c.chunks, tasks.c.counts, tasks.c.rel, tasks.c.error
                )
                .where(tasks.c.job_id == job_id)
                .order_by(tasks.c.seq)
            ).all()
        outcomes: dict[str, int] = {}
        errors: list[dict[str, Any]] = []
        finished = chunks = 0
        for status, n, counts, rel, error in rows:
            chunks += n
            finished += status in (DONE, FAILED)
            for key, value in (counts or {}).items():
                outcomes[key] = outcomes.get(key, 0) + value
            if error and len(errors) < max_errors:
                errors.append({"path": rel, **error})
        return JobTally(len(rows), finished, chunks, outcomes, errors)

    def rows(self, job_id: str) -> list[dict[str, Any]]:
        """Every row of a job (tests and operators: who did what, how many attempts)."""
        with self.engine.connect() as conn:
            result = conn.execute(
                sa.select(tasks).where(tasks.c.job_id == job_id).order_by(tasks.c.seq)
            )
            return [dict(r._mapping) for r in result]
