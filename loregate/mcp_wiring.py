"""The MCP endpoint assembled from the graph and mounted on the app (``/mcp`` and its
protected-resource metadata); the upstreams of ``LOREGATE_MCP_SERVERS`` closed with the graph."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from starlette.routing import Route

from gateway.mcp_config import load_upstreams
from gateway.mcp_upstream import Upstreams
from governance.audit_writer import Pending
from loregate.mcp_admin import mcp_admin_router
from loregate.mcp_audit import ToolCallLog
from loregate.mcp_endpoint import ToolGateway, build_mcp_app
from loregate.mcp_knowledge import KnowledgeTools

if TYPE_CHECKING:
    from loregate.graph import Loregate


def upstreams_of(graph: Loregate) -> Upstreams | None:
    path = graph.settings.mcp_servers
    if path is None:
        return None
    upstreams = Upstreams(
        load_upstreams(path), breaker=graph.catalogue.config.breaker, clock=graph.catalogue.clock
    )
    graph.on_close(upstreams.aclose)
    return upstreams


def audit_submit(graph: Loregate) -> Callable[[Pending], None]:
    """The governance audit writer's ``submit`` (batched, redacted, flushed at shutdown)."""
    writer = graph.governance.audit
    assert writer is not None
    return writer.submit


def tool_gateway(graph: Loregate) -> ToolGateway:
    parts = graph.governance_parts
    assert parts.grants is not None
    return ToolGateway(
        KnowledgeTools(graph.answer_service, lambda: graph.store(graph.settings.collection)),
        upstreams_of(graph),
        parts.grants,
        ToolCallLog(audit_submit(graph), parts.metrics),
        graph.settings.redis_url,
    )


def mount_mcp(app: FastAPI, graph: Loregate) -> Callable[[], Any]:
    """Routes ``/mcp`` (and its metadata) into ``app``; the session manager's ``run``, for the
    app's lifespan to enter."""
    gateway = tool_gateway(graph)
    mcp_app, run = build_mcp_app(
        gateway, graph.governance_parts.keys, public_url=graph.settings.public_url
    )
    for route in mcp_app.routes:
        path = getattr(route, "path", None)
        if path:  # dispatched into the MCP app, whose own middleware checks the key
            app.router.routes.append(Route(path, endpoint=mcp_app))
    app.include_router(mcp_admin_router(gateway, graph.governance_parts, graph.authenticate))
    return run
