"""The chunk-context stage of a collection's ingestor, from ``LOREGATE_CHUNK_CONTEXT``.

``header`` (the default) needs no stage: the chunkers' headers are the context. ``model``
writes contexts through the graph's own gateway on ``LOREGATE_CHUNK_CONTEXT_ROUTE``, from
ingestion's threads through the graph's ``AsyncBridge``.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from kernel.errors import AllProvidersFailed, ConfigError

if TYPE_CHECKING:
    from ingest.chunk_contexts import ContextStage
    from loregate.graph import Loregate


def context_stage(graph: Loregate, collection: str) -> ContextStage | None:
    settings = graph.settings
    if settings.chunk_context != "model":
        return None
    from ingest.chunk_contexts import ContextStage, ContextStore
    from ingest.context_writer import ModelContextConfig, ModelContextWriter

    route = settings.chunk_context_route
    if route not in graph.catalogue.config.routes:
        known = ", ".join(sorted(graph.catalogue.config.routes))
        raise ConfigError(
            f"LOREGATE_CHUNK_CONTEXT_ROUTE: no route {route!r} in the gateway config "
            f"(routes: {known})"
        )
    try:
        planned = graph.catalogue.plan(route).name
    except AllProvidersFailed:
        planned = ""
    if planned != route:
        raise ConfigError(
            f"LOREGATE_CHUNK_CONTEXT=model: no model of route {route!r} is reachable (set "
            "ANTHROPIC_API_KEY, or LOREGATE_CHUNK_CONTEXT_ROUTE to a route that has one); "
            "LOREGATE_CHUNK_CONTEXT=header needs no model"
        )
    writer = ModelContextWriter(graph.gateway, ModelContextConfig(route=route))
    bridge = graph.async_bridge

    async def close_on_own_loop() -> None:
        # the providers' clients ran on the bridge's private loop: close them there, first
        if bridge.used_own_loop:
            await asyncio.to_thread(bridge.run, graph.gateway.aclose())
        bridge.close()

    graph.on_close(close_on_own_loop)
    return ContextStage(writer, ContextStore(graph.engine, collection), graph.embedder, bridge.run)
