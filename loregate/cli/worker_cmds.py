"""`loregate ingest-worker`: runs queued ingestion jobs (the scaled-out shape).

With ``LOREGATE_INGEST_QUEUE=true`` the API only records jobs; one or more workers (sharing
PostgreSQL and a Qdrant server) claim them one at a time, the oldest first.
"""

from __future__ import annotations

import signal
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

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    g = graph()
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
