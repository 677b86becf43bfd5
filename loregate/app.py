"""The HTTP app factory: ``create_app`` builds the object graph and mounts every package's
router on concrete services; ``app_factory`` is what ``loregate serve`` runs in each worker."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from fastapi.telemetry import TelemetryConfig

from gateway.http import VENDOR_ERRORS
from governance.admin_api import admin_router
from governance.billing_api import billing_router
from governance.redaction import PiiRedactor
from governance.usage_api import usage_router
from ingest.api import in_thread, ingest_router
from kernel.heap_trim import HeapTrim
from kernel.hot_routes import TELEMETRY_OFF, HotRoutesApp
from kernel.request_context import RequestIdMiddleware
from loregate import __version__
from loregate.errors_http import install_error_handlers
from loregate.graph import Loregate
from loregate.offline import configure_offline
from loregate.overrides import Overrides
from loregate.readiness import readiness
from loregate.recovery import replay_journal
from loregate.settings import Settings, env_name, get_settings

log = logging.getLogger("loregate")

# Container allocations between collections of the youngest generation (see tune_process).
GC_YOUNG_THRESHOLD = 10_000
HEAP_TRIM = HeapTrim()  # started by ``tune_process``: serving workers only


def start_up(graph: Loregate) -> None:
    """Migrate and build every route's providers before the first request. Neither failure
    is fatal: a database that is down is reported by ``/readyz``; a provider that could not be
    built is built again (and fails with its own error) by the first request that needs it."""
    try:
        graph.migrate()
    except Exception as exc:
        log.warning("database migration at start-up failed: %s: %s", type(exc).__name__, exc)
    try:
        replayed = replay_journal(graph)
        if replayed:
            log.warning("replayed the journal of a process that died: %s", replayed)
    except Exception:  # kept on disk: the next start tries again
        log.exception("replaying the request journal failed")
    try:
        graph.plan_routes()
    except Exception:
        log.warning("building the providers at start-up failed", exc_info=True)


def warm_up(graph: Loregate) -> None:
    """Load now what the first request would otherwise wait seconds for: the redactor's
    presidio engine, the writers' processes. A failure is logged, not raised."""
    try:
        if isinstance(graph.redactor, PiiRedactor):
            _ = graph.redactor.analyzer
        audit = graph.governance.audit
        if audit is not None and audit.redaction is not None:
            audit.redaction.start()  # the redaction process loads presidio now, not mid-load
        ledger = graph.__dict__.get("ledger_writer")  # only if the gateway's ledger uses it
        if ledger is not None and ledger.inserts is not None:
            ledger.inserts.start()
    except Exception:
        log.warning("start-up warm-up failed; the first requests will pay for it", exc_info=True)


def tune_process() -> None:
    """Process-wide tuning for a serving worker (``loregate serve`` only, never tests).

    What start-up built lives as long as the process: frozen out of the collector's reach, so
    full collections under load scan only what requests allocate. Writer threads (ledger,
    audit, budgets) hand the interpreter lock back to the event loop after 0.2 ms, not 5 ms:
    a request waiting for the lock behind a batch being written waits at most that long at
    each of its awaits (benchmarks/gateway_overhead.py: p99 one request at a time).

    The youngest generation is collected every ``GC_YOUNG_THRESHOLD`` container allocations
    instead of CPython's 700: a request allocates hundreds, so the default ran a collection
    for nearly every request. What the C library's ``malloc`` keeps after load peaks goes back
    to the system every few seconds (``kernel.heap_trim``)."""
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, older, oldest)
    sys.setswitchinterval(0.0002)
    HEAP_TRIM.start()


def fastapi_telemetry() -> TelemetryConfig | None:
    """FastAPI's OpenTelemetry spans, metrics and logs when OpenTelemetry is configured (an
    ``OTEL_*`` variable, as ``opentelemetry-instrument`` and the OTLP exporters read them, or
    FastAPI's own ``FASTAPI_OTEL_AUTO_CONFIGURE``); otherwise off, since even with nothing to
    report FastAPI asks OpenTelemetry's global providers on every request."""
    configured = os.environ.get("FASTAPI_OTEL_AUTO_CONFIGURE", "").lower() == "true" or any(
        name.startswith("OTEL_") for name in os.environ
    )
    return None if configured else TELEMETRY_OFF  # FastAPI copies it


def create_app(
    settings: Settings | None = None,
    graph: Loregate | None = None,
    *,
    overrides: Overrides | None = None,
    serving: bool = False,
    after_start: Callable[[], None] | None = None,
) -> FastAPI:
    """``serving``: warm up before accepting connections. ``after_start`` runs once the app
    is ready (``loregate serve`` tunes the process there)."""
    configure_offline()
    graph = graph or Loregate(settings or get_settings(), overrides)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await asyncio.to_thread(start_up, graph)
        if serving:
            await asyncio.to_thread(warm_up, graph)
        if after_start is not None:
            after_start()
        graph.async_bridge.bind(asyncio.get_running_loop())  # ingestion's gateway calls run here
        try:
            async with mcp_sessions():  # the MCP endpoint's session manager
                yield
        finally:
            graph.async_bridge.unbind()
            await graph.aclose()

    app = HotRoutesApp(
        title="loregate",
        version=__version__,
        description=(
            "Self-hosted knowledge assistant: permission-aware retrieval over contracts, docs "
            "and tickets, answered through one governed, audited and billed gateway to Claude."
        ),
        lifespan=lifespan,
        telemetry=fastapi_telemetry(),
    )
    app.state.graph = graph
    install_error_handlers(app, VENDOR_ERRORS)
    _mount(app, graph)
    app.add_middleware(RequestIdMiddleware)  # last added runs first: ids for every route
    from loregate.mcp_wiring import mount_mcp

    mcp_sessions = mount_mcp(app, graph)

    @app.get("/healthz", tags=["health"], summary="The process is up")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    @app.get("/readyz", tags=["health"], summary="Every configured backend answers")
    async def readyz() -> JSONResponse:
        checks = await asyncio.to_thread(readiness, graph)
        ok = all(c.ok for c in checks)
        return JSONResponse(
            {
                "status": "ready" if ok else "not_ready",
                "checks": {c.name: {"ok": c.ok, "detail": c.detail} for c in checks},
            },
            status_code=200 if ok else 503,
        )

    return app


def _mount(app: HotRoutesApp, graph: Loregate) -> None:
    from gateway.http import mount_gateway
    from retrieval.api import build_router as ask_router

    auth = graph.authenticate
    parts = graph.governance_parts
    settings = graph.settings
    mount_gateway(app, graph.gateway, auth)
    app.include_router(admin_router(parts, auth))
    app.include_router(usage_router(parts, auth))
    app.include_router(billing_router(graph.billing, auth))
    app.include_router(ask_router(graph.answer_service(), graph.review_queue, auth))
    app.include_router(
        ingest_router(
            ingestor=graph.ingestor(),
            jobs=graph.job_store,
            authenticate=auth,
            roots=settings.ingest_root_paths,
            queue_only=settings.ingest_queue,
            run_in_background=graph.overrides.run_job or in_thread,
            submit=queue.submit if (queue := graph.ingest_queue) is not None else None,
        )
    )
    from loregate.console_wiring import build_console

    app.mount("/console", build_console(graph))


def app_factory() -> FastAPI:
    """For ``uvicorn --factory loregate.app:app_factory`` (``loregate serve``): settings from
    the environment, warmed up, the process tuned for serving."""
    settings = get_settings()
    if env_name("audit_process") not in os.environ:  # serving: audit redaction off the GIL
        settings = settings.model_copy(update={"audit_process": True})
    return create_app(settings, serving=True, after_start=tune_process)
