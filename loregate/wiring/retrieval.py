"""Wiring of the `retrieval` package: the answer service, the review queue, the response
cache, and the ask/search/review router.

Built once per container, on first use: the searcher on the store, embedder and sparse
encoder of ``loregate.wiring.store``; the gateway of ``loregate.wiring.gateway``; the prompt
registry and the PII redactor of ``loregate.wiring.governance``; the index version of
``retrieval.index_version`` (any ingestion changes it, so the response cache never serves an
answer from before it). Reviewed answers are checked again against the same store;
``LOREGATE_MIN_RELEVANCE`` sets the context builder's absolute relevance floor.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter

from kernel.errors import ApiError, ConfigError
from retrieval import index_version
from retrieval.answer import AnswerConfig, AnswerService, RouteInfo
from retrieval.api import build_router
from retrieval.cache_plan import CacheEconomics, PaddingPolicy
from retrieval.context_builder import ContextBuilder, ContextConfig
from retrieval.response_cache import CacheBackend, MemoryBackend, RedisBackend, ResponseCache
from retrieval.review import ReviewQueue
from retrieval.search import HybridSearcher

if TYPE_CHECKING:
    from collections.abc import Callable

    from gateway.service import Gateway
    from loregate.container import Container


def route_info_of(gw: Gateway) -> Callable[[str | None], RouteInfo]:
    """The name, first available model and its cache economics of a route, from the gateway."""
    cache: dict[str | None, RouteInfo] = {}

    def info(route: str | None) -> RouteInfo:
        found = cache.get(route)
        if found is not None:
            return found
        name = gw.route_name(route or gw.config.default_route)  # UnknownModel when unknown
        try:
            tiers = gw.route_tiers(name)
        except ApiError:  # no model of the route is available: the ask degrades later
            return RouteInfo(name=name, first_model="", tiers=0)
        spec = tiers[0].candidates[0].spec
        p = spec.prices
        found = RouteInfo(
            name=name,
            first_model=spec.alias,
            tiers=len(tiers),
            economics=CacheEconomics(
                model=spec.alias,
                min_cacheable_tokens=spec.min_cacheable_tokens,
                prompt_caching=spec.prompt_caching,
                input_price=float(p.input),
                cache_write_price=float(p.cache_write_5m),
                cache_read_price=float(p.cache_read),
            ),
        )
        cache[route] = found
        return found

    return info


def review_queue(container: Container) -> ReviewQueue:
    def build(c: Container) -> ReviewQueue:
        from loregate.wiring import governance

        return ReviewQueue(c.engine, governance.redactor(c))

    built: ReviewQueue = container.part("retrieval.review", build)
    return built


def response_cache(container: Container) -> ResponseCache:
    def build(c: Container) -> ResponseCache:
        backend: CacheBackend = RedisBackend(c.redis) if c.redis is not None else MemoryBackend()
        return ResponseCache(backend)

    built: ResponseCache = container.part("retrieval.response_cache", build)
    return built


def answer_config(container: Container) -> AnswerConfig:
    s = container.settings
    knowledge = ""
    if s.standing_knowledge is not None:
        try:
            knowledge = s.standing_knowledge.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(
                f"LOREGATE_STANDING_KNOWLEDGE: cannot read {s.standing_knowledge} as UTF-8 text "
                f"({type(exc).__name__})"
            ) from None
    padding: PaddingPolicy = "auto"
    if s.prompt_cache_padding in ("always", "never"):
        padding = "always" if s.prompt_cache_padding == "always" else "never"
    return AnswerConfig(
        standing_knowledge=knowledge,
        padding=padding,
        requests_per_window=s.asks_per_cache_window,
    )


def context_builder(container: Container) -> ContextBuilder:
    """The context builder, with ``LOREGATE_MIN_RELEVANCE`` as its absolute floor (or none)."""
    return ContextBuilder(ContextConfig(min_score=container.settings.min_relevance))


def _build_service(container: Container) -> AnswerService:
    from loregate.wiring import gateway as gateway_wiring
    from loregate.wiring import governance
    from loregate.wiring import store as store_wiring

    gw = gateway_wiring.gateway(container)
    engine = container.engine
    collection = container.settings.collection
    store = store_wiring.store(container)
    return AnswerService(
        searcher=HybridSearcher(
            store, store_wiring.embedder(container), store_wiring.sparse(container)
        ),
        gateway=gw,
        prompts=governance.prompts(container),
        route_info=route_info_of(gw),
        index_version=lambda: index_version.current(engine, collection),
        review=review_queue(container),
        cache=response_cache(container),
        builder=context_builder(container),
        config=answer_config(container),
        chunks=store,
    )


def answer_service(container: Container) -> AnswerService:
    """The container's one answer service (what the API, the CLI and the evals call)."""
    built: AnswerService = container.part("retrieval.answer_service", _build_service)
    return built


def routers(container: Container) -> list[APIRouter]:
    """The HTTP routers this package contributes to the app."""
    from loregate.wiring import governance

    return [
        build_router(
            lambda: answer_service(container),
            lambda: review_queue(container),
            governance.authenticator(container),
        )
    ]
