"""The HTTP app factory: ``create_app(settings)`` mounts every package's router."""

from __future__ import annotations

import asyncio
import gc
import sys
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from loregate import __version__
from loregate.container import Container
from loregate.errors_http import ErrorRenderer, install_error_handlers
from loregate.offline import configure_offline
from loregate.settings import Settings, get_settings
from loregate.wiring import evals as evals_wiring
from loregate.wiring import gateway as gateway_wiring
from loregate.wiring import governance as governance_wiring
from loregate.wiring import ingest as ingest_wiring
from loregate.wiring import retrieval as retrieval_wiring

REQUEST_ID_HEADER = b"x-request-id"


class RequestIdMiddleware:
    """Pure ASGI (cheap on the hot path): a request id in and out, and total time taken."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers") or ()).get(REQUEST_ID_HEADER)
        request_id = incoming.decode("latin-1")[:128] if incoming else uuid.uuid4().hex
        scope["loregate.request_id"] = request_id
        scope["loregate.started"] = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((REQUEST_ID_HEADER, request_id.encode("latin-1")))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_id)


def create_app(
    settings: Settings | None = None, container: Container | None = None, *, serving: bool = False
) -> FastAPI:
    """``serving``: the app is the process's one app (``loregate serve``): it warms up before it
    accepts connections, and then freezes what start-up built out of the garbage collector."""
    configure_offline()
    settings = settings or get_settings()
    container = container or Container(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if serving:
            # The first request would otherwise wait seconds (presidio, the SDKs, providers).
            await asyncio.to_thread(gateway_wiring.warm_up, container)
            # What start-up built lives as long as the process: out of the collector's reach,
            # full collections under load scan only what requests allocate (shorter pauses,
            # a lower p99).
            gc.collect()
            gc.freeze()
            # The writer threads (ledger, audit, budgets) hand the GIL back to the event loop
            # after 1 ms instead of 5 ms: a request never waits long behind a batch.
            sys.setswitchinterval(0.001)
        try:
            yield
        finally:
            await container.aclose()

    app = FastAPI(
        title="loregate",
        version=__version__,
        description=(
            "Self-hosted knowledge assistant: permission-aware retrieval over contracts, docs "
            "and tickets, answered through one governed, audited and billed gateway to Claude."
        ),
        lifespan=lifespan,
    )
    app.state.container = container
    app.add_middleware(RequestIdMiddleware)

    renderers: list[tuple[str, ErrorRenderer]] = list(gateway_wiring.error_renderers())
    install_error_handlers(app, renderers)

    @app.get("/healthz", tags=["health"], summary="The process is up")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    @app.get("/readyz", tags=["health"], summary="Every configured backend answers")
    async def readyz() -> JSONResponse:
        import anyio

        checks = await anyio.to_thread.run_sync(container.readiness)
        ok = all(c.ok for c in checks)
        return JSONResponse(
            {
                "status": "ready" if ok else "not_ready",
                "checks": {c.name: {"ok": c.ok, "detail": c.detail} for c in checks},
            },
            status_code=200 if ok else 503,
        )

    for wiring in (
        gateway_wiring,
        governance_wiring,
        retrieval_wiring,
        ingest_wiring,
        evals_wiring,
    ):
        for router in wiring.routers(container):
            app.include_router(router)
    return app


def app_factory() -> FastAPI:
    """For ``uvicorn --factory loregate.app:app_factory`` (settings from the environment)."""
    return create_app(serving=True)
