"""Ingestion on the task queue (RabbitMQ, dramatiq) with worker processes: one job shared by
three workers, each document exactly once; a worker SIGKILLed mid-job; a small job overtaking
a backfill. Tiny documents and a fake embedder keep it fast; the store is a SQL table shared
by the processes (testkit/queue_worker.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ingest.jobs import JobRecord
from ingest.tasks import TaskStore
from loregate.graph import Loregate
from loregate.overrides import Overrides
from testkit.embedders import FakeEmbedder
from testkit.sql_store import SqlChunkStore
from tests.graphs import rig_settings
from tests.scale.conftest import spawn

pytestmark = pytest.mark.postgres

WORDS = [
    "alpha",
    "beta",
    "gamma",
    "delta",
    "epsilon",
    "zeta",
    "eta",
    "theta",
    "iota",
    "kappa",
    "lambda",
]


def corpus(folder: Path, n: int) -> Path:
    folder.mkdir(parents=True)
    for i in range(n):
        body = " ".join(WORDS[(i + k) % len(WORDS)] for k in range(12))
        (folder / f"d{i:05d}.md").write_text(f"# Document {i}\n\n{body} number {i}.\n")
    return folder


class Rig:
    """The producer side in this process, and worker processes."""

    def __init__(self, tmp: Path, db_url: str, amqp: tuple[str, str]) -> None:
        self.tmp = tmp
        self.env = {
            "LOREGATE_HOME": str(tmp / "home"),
            "LOREGATE_DATABASE_URL": db_url,
            "LOREGATE_INGEST_BROKER": amqp[0],
            "LOREGATE_INGEST_QUEUE_NAME": amqp[1],
            "LOREGATE_COLLECTION": "scale",
        }
        settings = rig_settings(
            home=tmp / "home",
            database_url=db_url,
            ingest_broker=amqp[0],
            ingest_queue_name=amqp[1],
            collection="scale",
        )
        probe = Loregate(settings)
        probe.migrate()
        self.store = SqlChunkStore(probe.engine)
        self.graph = Loregate(
            settings,
            Overrides(engine=probe.engine, embedder=FakeEmbedder(), stores={"scale": self.store}),
        )
        self.engine = probe.engine
        self.tasks = TaskStore(self.engine)
        self.workers: list[subprocess.Popen[bytes]] = []

    def submit(self, folder: Path, source: str) -> str:
        request = {"paths": [str(folder)], "manifest": None, "prune": False, "dry_run": False}
        job_id = self.graph.job_store.create("scale", {**request, "source": source}, "test")
        queue = self.graph.ingest_queue
        assert queue is not None
        queue.submit(job_id)
        return job_id

    def start_workers(self, n: int) -> None:
        for _ in range(n):
            log = self.tmp / f"worker{len(self.workers)}.log"
            self.workers.append(spawn("testkit.queue_worker", self.env, log))

    def job(self, job_id: str) -> JobRecord:
        record = self.graph.job_store.get(job_id)
        assert record is not None
        return record

    def wait(self, job_id: str, timeout: float = 90.0) -> JobRecord:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            record = self.job(job_id)
            if record.finished_at is not None:
                return record
            time.sleep(0.2)
        logs = "\n".join(p.read_text()[-2000:] for p in self.tmp.glob("worker*.log"))
        raise AssertionError(f"job {job_id} did not finish: {self.job(job_id)}\n{logs}")

    def stop(self) -> None:
        # Every message is acknowledged once its job ended: nothing to hand back politely.
        for w in self.workers:
            if w.poll() is None:
                w.kill()
            w.wait()
        queue = self.graph.ingest_queue
        if queue is not None:
            queue.close()

    def check_index(self, rows: list[dict[str, Any]]) -> None:
        """Every document's points are in the store, once: as many as the registry says."""
        stored = self.store.doc_chunk_counts()
        registered = {r.doc_id: r.chunk_count for r in self.graph.ingestor("scale").documents()}
        assert len(registered) == len(rows)
        assert stored == registered
        assert self.store.count() == sum(registered.values())


@pytest.fixture
def rig(tmp_path: Path, postgres_url: str, amqp_queue: tuple[str, str]) -> Iterator[Rig]:
    r = Rig(tmp_path, postgres_url, amqp_queue)
    yield r
    r.stop()
    r.engine.dispose()


def test_three_workers_share_one_job_each_document_exactly_once(rig: Rig) -> None:
    folder = corpus(rig.tmp / "bulk", 2000)
    job_id = rig.submit(folder, "bulk")
    rig.start_workers(3)
    record = rig.wait(job_id)

    assert record.status == "succeeded", record.errors
    assert (record.total_files, record.done_files) == (2000, 2000)
    assert record.counts["added"] == 2000
    rows = rig.tasks.rows(job_id)
    assert [r["attempts"] for r in rows] == [1] * 2000  # no document ran twice
    assert len({r["worker"] for r in rows}) == 3  # all three took part
    assert record.chunks == sum(r["chunks"] for r in rows)
    rig.check_index(rows)


def test_a_worker_killed_mid_job_loses_and_duplicates_nothing(rig: Rig) -> None:
    folder = corpus(rig.tmp / "bulk", 300)
    job_id = rig.submit(folder, "bulk")
    rig.start_workers(2)
    while rig.job(job_id).done_files < 80:
        time.sleep(0.05)
    victim = rig.workers[0]
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait()
    record = rig.wait(job_id)

    assert record.status == "succeeded", record.errors
    assert record.done_files == 300
    rows = rig.tasks.rows(job_id)
    assert all(r["status"] == "done" for r in rows)
    rig.check_index(rows)


def test_a_small_job_overtakes_a_backfill(rig: Rig) -> None:
    backfill = rig.submit(corpus(rig.tmp / "big", 150), "big")
    small = rig.submit(corpus(rig.tmp / "small", 5), "small")
    rig.start_workers(1)
    done_small = rig.wait(small)
    assert done_small.status == "succeeded"
    big_then = rig.job(backfill).done_files
    assert big_then < 50, f"the small job waited for {big_then} backfill documents"
    assert rig.wait(backfill).status == "succeeded"
