"""Builds the web console over the graph's services (mounted at ``/console`` by the app)."""

from __future__ import annotations

from functools import partial

from fastapi import FastAPI

from console.app import create_console
from console.refresher import RollupRefresher
from console.rollup import UsageRollup
from console.rollup_process import RollupProcess
from console.services import ConsoleServices
from console.sessions import SessionStore
from ingest.api import in_thread, submit_job
from loregate.database import make_engine
from loregate.graph import Loregate


def console_services(graph: Loregate) -> ConsoleServices:
    """The console's services: the API's own, plus a dashboard connection pool of its own
    (on the caller's engine when one was given, as tests do)."""
    parts = graph.governance_parts
    if graph.overrides.engine is not None:
        dashboard = graph.engine
    else:
        dashboard = make_engine(graph.settings.resolved_database_url, pool_size=2)
        graph.on_close(dashboard.dispose)
    settings = graph.settings
    start_job = partial(
        submit_job,
        ingestor=graph.ingestor(),
        jobs=graph.job_store,
        roots=settings.ingest_root_paths,
        queue_only=settings.ingest_queue,
        run_in_background=graph.overrides.run_job or in_thread,
        submit=queue.submit if (queue := graph.ingest_queue) is not None else None,
    )
    services = ConsoleServices(
        parts=parts,
        answers=graph.answer_service(),
        review=graph.review_queue,
        sessions=SessionStore(graph.engine, parts.keys),
        rollup=UsageRollup(dashboard),
        dashboard_engine=dashboard,
        ingestor=graph.ingestor(),
        runs=graph.run_store,
        gateway=graph.gateway,
        jobs=graph.job_store,
        start_job=start_job,
        billing=graph.billing,
        collection=graph.settings.collection,
    )
    graph.on_close(lambda: services.executor.shutdown(wait=False))
    return services


def build_console(graph: Loregate) -> FastAPI:
    services = console_services(graph)
    rollup = services.rollup
    # ``loregate serve``: the refresh in a child process, off the interpreter lock
    factory = graph.process_engine(make_engine)
    process = (
        RollupProcess(factory, settle_s=rollup.settle_s, batch=rollup.batch) if factory else None
    )
    refresher = RollupRefresher(rollup, graph.settings.console_rollup_interval_s, process=process)
    refresher.start()
    graph.on_close(refresher.close)
    return create_console(services)
