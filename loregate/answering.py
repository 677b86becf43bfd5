"""The answer service of a collection, assembled from the graph's parts and the settings.

``LOREGATE_STANDING_KNOWLEDGE`` adds a text file to the cached prompt prefix,
``LOREGATE_PROMPT_CACHE_PADDING`` and ``LOREGATE_ASKS_PER_CACHE_WINDOW`` decide whether the
prefix is padded to the model's cacheable minimum, and ``LOREGATE_MIN_RELEVANCE`` sets the
context builder's absolute relevance floor. The index version of the collection keys the
response cache (any ingestion changes it, so a cached answer never predates the index).
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from kernel.errors import ConfigError
from loregate.settings import Settings
from retrieval import index_version
from retrieval.answer import AnswerConfig, AnswerService
from retrieval.answer_ports import LedgerRows
from retrieval.cache_plan import PaddingPolicy
from retrieval.context_builder import ContextBuilder, ContextConfig
from retrieval.rerank import CoverageConfig, CoverageReranker
from retrieval.search import HybridSearcher

if TYPE_CHECKING:
    from loregate.graph import Loregate


def answer_config(settings: Settings) -> AnswerConfig:
    knowledge = ""
    if settings.standing_knowledge is not None:
        try:
            knowledge = settings.standing_knowledge.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(
                f"LOREGATE_STANDING_KNOWLEDGE: cannot read {settings.standing_knowledge} as "
                f"UTF-8 text ({type(exc).__name__})"
            ) from None
    padding: PaddingPolicy = "auto"
    if settings.prompt_cache_padding in ("always", "never"):
        padding = "always" if settings.prompt_cache_padding == "always" else "never"
    return AnswerConfig(
        standing_knowledge=knowledge,
        padding=padding,
        requests_per_window=settings.asks_per_cache_window,
    )


def reranker(graph: Loregate) -> CoverageReranker | None:
    """The coverage reranker at ``LOREGATE_RERANK_WEIGHT`` (none at 0)."""
    weight = graph.settings.rerank_weight
    return CoverageReranker(graph.sparse, CoverageConfig(weight)) if weight > 0 else None


def _rows_sink(graph: Loregate) -> LedgerRows | None:
    """Where cache hits' ledger rows go: the graph's writer, or a test's own ledger if it
    takes rows (``MemoryLedger``)."""
    sink = graph.overrides.ledger if graph.overrides.ledger is not None else graph.ledger_writer
    return sink if isinstance(sink, LedgerRows) else None


def build_answer_service(graph: Loregate, collection: str) -> AnswerService:
    """Every dependency is a bound object (``partial``, not a closure defined here), so a
    request's traceback goes from retrieval straight into the part it calls."""
    store = graph.store(collection)
    return AnswerService(
        searcher=HybridSearcher(store, graph.embedder, graph.sparse, reranker=reranker(graph)),
        gateway=graph.gateway,
        prompts=graph.overrides.prompts or graph.governance_parts.prompts,
        index_version=partial(index_version.current, graph.engine, graph.index_name(collection)),
        review=graph.review_queue,
        cache=graph.response_cache,
        builder=ContextBuilder(ContextConfig(min_score=graph.settings.min_relevance)),
        config=answer_config(graph.settings),
        chunks=store,
        ledger=_rows_sink(graph),
    )
