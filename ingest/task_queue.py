"""Ingestion on a task queue: a job fanned out as per-document tasks over RabbitMQ (dramatiq).

``LOREGATE_INGEST_BROKER=amqp://...`` turns it on; without it a job runs in the API process as
before (no broker). Three kinds of message, all on one priority queue (``x-max-priority``):

- ``plan(job)``: discover the job's files, write one task row per file (``ingest.tasks``),
  send one ``document`` message per row not done yet. Sent at the top priority.
- ``document(job, seq)``: take the row, run the pipeline on that one file (same root and scope
  as the whole job, so the same document ids), write the outcome to the row and the job's
  progress (aggregated from its rows). Sent at a priority that falls with the job's size, so
  a five-file update overtakes the rest of a 100,000-file backfill instead of queueing behind
  it (workers prefetch one message each, so the broker's order is the order of work).
- ``finish(job)``: when every row is finished, prune (if asked) and write the job's result.

Messages are acknowledged after the handler returns (dramatiq's default on RabbitMQ): a
worker killed mid-document never acknowledged it, and RabbitMQ redelivers it to another
worker when the dead one's connection closes. Redelivery is harmless: a finished row drops the
message, and the pipeline's writes are idempotent (deterministic point ids, upserts). An
exception (database or store down) is retried with backoff by dramatiq; each delivery counts
as an attempt on the row, and ``ingest.tasks.MAX_ATTEMPTS`` ends the retries with a failure.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from ingest.chunk_contexts import JobTag
from ingest.jobs import JobStore
from ingest.manifest import Manifest, load_manifest
from ingest.pipeline import Ingestor
from ingest.sources import Source, SourceFile, discover
from ingest.tasks import MAX_ATTEMPTS, TaskStore

log = logging.getLogger("loregate.ingest.queue")

QUEUE = "loregate-ingest"
MAX_PRIORITY = 9
_TOP = MAX_PRIORITY
_RETRY = {"max_retries": MAX_ATTEMPTS + 1, "min_backoff": 500, "max_backoff": 30_000}
_DOCUMENT_TIME_LIMIT_MS = 30 * 60 * 1000  # one very large file may take minutes to embed


def priority_for(total_files: int) -> int:
    """The broker priority of a job's document tasks: the smaller the job, the sooner."""
    for limit, prio in ((10, 8), (100, 7), (1_000, 5), (10_000, 3), (100_000, 1)):
        if total_files <= limit:
            return prio
    return 0


@dataclass(frozen=True)
class _JobContext:
    collection: str
    scope: str
    manifest: Manifest
    prune: bool
    dry_run: bool
    request: dict[str, Any]
    job: JobTag  # whose job: the model calls of chunk contexts are made and billed as them


class IngestQueue:
    """The producer and the worker side of the ingestion queue (one per process)."""

    def __init__(
        self,
        url: str,
        *,
        jobs: JobStore,
        tasks: TaskStore,
        ingestor_for: Callable[[str], Ingestor],
        worker_name: str | None = None,
        queue: str = QUEUE,
    ) -> None:
        import dramatiq
        from dramatiq.brokers.rabbitmq import RabbitmqBroker

        # Publisher confirms: ``send`` returns once RabbitMQ holds the message.
        self.broker = RabbitmqBroker(url=url, max_priority=MAX_PRIORITY, confirm_delivery=True)
        self.jobs = jobs
        self.tasks = tasks
        self.ingestor_for = ingestor_for
        self.worker_name = worker_name or f"{socket.gethostname()}:{os.getpid()}"
        self.queue = queue
        self._context = lru_cache(maxsize=32)(self._load_context)

        def actor(fn: Callable[..., None], name: str, **options: Any) -> dramatiq.Actor[Any, Any]:
            return dramatiq.Actor(
                fn,
                broker=self.broker,
                actor_name=name,
                queue_name=queue,
                priority=0,
                options={**_RETRY, **options},
            )

        self._plan = actor(self.plan, "loregate_ingest_plan")
        self._document = actor(
            self.document, "loregate_ingest_document", time_limit=_DOCUMENT_TIME_LIMIT_MS
        )
        self._finish = actor(self.finish, "loregate_ingest_finish")

    # Producer ---------------------------------------------------------------------------------
    def submit(self, job_id: str) -> None:
        """Queue a recorded job (``JobStore.create``) for the workers."""
        self._plan.send_with_options(args=(job_id,), broker_priority=_TOP)

    def close(self) -> None:
        self.broker.close()

    # Handlers (run by workers) ----------------------------------------------------------------
    def plan(self, job_id: str) -> None:
        record = self.jobs.get(job_id)
        if record is None or record.finished_at is not None:
            return  # unknown, or a redelivery of a job that already ended
        req = record.request
        manifest_path = Path(req["manifest"]) if req.get("manifest") else None
        source = discover(
            [Path(p) for p in req["paths"]],
            load_manifest(manifest_path),
            scope=req.get("source"),
            exclude=[manifest_path] if manifest_path else [],
        )
        total = self.tasks.plan(job_id, [(str(f.path), f.rel) for f in source.files])
        self.jobs.planned(job_id, total, source.scope)
        prio = priority_for(total)
        pending = self.tasks.unfinished(job_id)
        for seq in pending:
            self._document.send_with_options(args=(job_id, seq), broker_priority=prio)
        if not pending:
            self._finish.send_with_options(args=(job_id,), broker_priority=_TOP)
        log.info("job %s: %d document tasks queued at priority %d", job_id, len(pending), prio)

    def document(self, job_id: str, seq: int) -> None:
        task = self.tasks.claim(job_id, seq, self.worker_name)
        if task is not None:
            ctx = self._context(job_id)
            rel = task.rel
            path = Path(task.path)
            root = Path(task.path[: -len(rel)]) if task.path.endswith(rel) else path.parent
            one = Source(root, ctx.scope, [SourceFile(path, rel, ctx.manifest.resolve(rel))])
            report = self.ingestor_for(ctx.collection).ingest_source(
                one, dry_run=ctx.dry_run, job=ctx.job
            )
            counts = {k: v for k, v in report.counts().items() if v}
            first = report.failed[0] if report.failed else None
            outcome = "failed" if first else next(iter(counts), "unchanged")
            error = {"code": first.code, "message": first.message} if first else None
            self.tasks.finish(task, outcome, report.chunks_written, counts, error)
        total, finished, chunks = self.tasks.progress(job_id)
        self.jobs.progressed(job_id, finished, chunks)
        if total and finished == total:
            self._finish.send_with_options(args=(job_id,), broker_priority=_TOP)

    def finish(self, job_id: str) -> None:
        record = self.jobs.get(job_id)
        if record is None or record.finished_at is not None:
            return  # sent by two last workers at once, or redelivered: the first one wrote it
        tally = self.tasks.tally(job_id)
        if not tally.complete:
            return
        ctx = self._context(job_id)
        ingestor = self.ingestor_for(ctx.collection)
        deleted = 0
        if ctx.prune:
            # Every file is unchanged by now: this pass only hashes them and deletes the
            # documents of the scope that the source no longer has.
            req = ctx.request
            report = ingestor.ingest_path(
                [Path(p) for p in req["paths"]],
                manifest=Path(req["manifest"]) if req.get("manifest") else None,
                scope=ctx.scope,
                prune=True,
                dry_run=ctx.dry_run,
            )
            deleted = len(report.deleted)
        self.jobs.finished_tally(job_id, tally, deleted, self._index_version(ingestor))

    # Worker -----------------------------------------------------------------------------------
    def run_worker(self, stop: threading.Event, threads: int = 1) -> None:
        """Consume until ``stop`` is set, then finish the messages in hand and return."""
        import dramatiq

        worker = dramatiq.Worker(self.broker, queues={self.queue}, worker_threads=threads)
        worker.queue_prefetch = 1  # one message in hand a thread: priorities hold
        worker.start()
        try:
            stop.wait()
        finally:
            worker.stop(timeout=60_000)

    def _load_context(self, job_id: str) -> _JobContext:
        record = self.jobs.get(job_id)
        if record is None:
            raise LookupError(f"no ingestion job {job_id}")
        req = record.request
        manifest = load_manifest(Path(req["manifest"]) if req.get("manifest") else None)
        scope = record.scope or req.get("source") or ""
        prune, dry_run = bool(req.get("prune")), bool(req.get("dry_run"))
        job = JobTag.of(job_id, record.created_by)
        return _JobContext(record.collection, scope, manifest, prune, dry_run, req, job)

    @staticmethod
    def _index_version(ingestor: Ingestor) -> str:
        from retrieval import index_version

        return index_version.current(ingestor.engine, ingestor.collection)
