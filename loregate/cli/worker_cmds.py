"""`loregate ingest-worker`: runs queued ingestion jobs (the scaled-out shape).

With ``LOREGATE_INGEST_BROKER=amqp://...`` the worker consumes per-document tasks from
RabbitMQ (``ingest.task_queue``): any number of workers share one job. Else, with
``LOREGATE_INGEST_QUEUE=true``, the API only records jobs and workers (sharing PostgreSQL and
a Qdrant server) claim whole jobs one at a time, the oldest first.
"""

from __future__ import annotations

import signal
import threading
import time
from types import FrameType
from typing import Annotated

import typer

from loregate.cli.common import console, friendly_errors, graph


@friendly_errors
def ingest_worker(
    poll_seconds: Annotated[
        float, typer.Option(min=0.1, help="How long to wait when no job is queued.")
    ] = 5.0,
    once: Annotated[
        bool, typer.Option("--once", help="Run the queued jobs there are now, then exit.")
    ] = False,
) -> None:
    """Run queued ingestion jobs until stopped (SIGTERM/Ctrl-C finish the current job first)."""
    from ingest.api import run_queued

    stopping = False
    stop_event = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        stop_event.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    g = graph()
    queue = g.ingest_queue
    if queue is not None:
        # One document at a time a process: scale with processes (the embedder has its threads).
        console.print(f"ingest worker {queue.worker_name} on the task queue")
        queue.run_worker(stop_event)
        return
    console.print(f"ingest worker on collection {g.settings.collection!r}")
    while not stopping:
        job_id = run_queued(g.ingestor(), g.job_store)
        if job_id is not None:
            console.print(f"job {job_id} done")
            continue
        if once:
            break
        time.sleep(poll_seconds)


# The commands this module adds to `loregate` ----------------------------------------------
app = typer.Typer()

app.command("ingest-worker")(ingest_worker)
