"""Job records: lifecycle, progress, and a dead job read as interrupted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from ingest.jobs import JobProgress, JobStore
from ingest.report import Failure, IngestReport
from testkit.clock import ManualClock


def test_job_lifecycle(engine: Engine) -> None:
    jobs = JobStore(engine)
    job_id = jobs.create("c", {"paths": ["/x"]}, "olga")
    assert jobs.get(job_id).status == "queued"  # type: ignore[union-attr]
    progress = JobProgress(jobs, job_id, every_seconds=0)
    progress.start(3)
    progress.file_done("a.md", "write")
    progress.chunks_written(5)
    running = jobs.get(job_id)
    assert running is not None and running.status == "running"
    assert (running.total_files, running.done_files, running.chunks) == (3, 1, 5)
    report = IngestReport(
        collection="c",
        scope="src",
        files=3,
        added=["a"],
        chunks_written=5,
        failed=[Failure("b.txt", "empty_file", "empty file (0 bytes)")],
        index_version="7.abc",
    )
    jobs.finished(job_id, report)
    done = jobs.get(job_id)
    assert done is not None and done.status == "completed_with_errors"
    assert done.counts["added"] == 1 and done.errors[0]["code"] == "empty_file"
    assert done.as_json()["finished_at"] is not None and done.index_version == "7.abc"


def test_failed_and_interrupted(engine: Engine) -> None:
    clock = ManualClock(wall_start=datetime(2024, 1, 1, tzinfo=UTC))
    jobs = JobStore(engine, clock=clock.now)
    failing = jobs.create("c", {}, "olga")
    jobs.failed(failing, "StoreError: disk full")
    assert jobs.get(failing).status == "failed"  # type: ignore[union-attr]
    dying = jobs.create("c", {}, "olga")
    jobs.started(dying, 10)
    clock.advance(timedelta(minutes=10).total_seconds())  # no heartbeat since: it died
    assert jobs.get(dying).status == "interrupted"  # type: ignore[union-attr]
    assert jobs.get("nope") is None
