"""Wiring of the `evals` package: the run store, the answerers, scorers and run snapshots.

A dataset that carries its own corpus (the Claude-docs set) is answered by a container whose
collection is the corpus's own (``corpus_container``): same database, ledger and gateway
configuration, another Qdrant collection, so eval corpora never mix with the company's index.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter

from evals.corpus import Corpus
from evals.records import Snapshot
from evals.run_store import RunStore

if TYPE_CHECKING:
    from evals.answerers import Answerer
    from evals.metrics.scorer import MetricScorer
    from ingest.report import IngestReport
    from loregate.container import Container

log = logging.getLogger("loregate.evals")


def run_store(container: Container) -> RunStore:
    built: RunStore = container.part("evals.run_store", lambda c: RunStore(c.engine))
    return built


def corpus_container(container: Container, corpus: Corpus) -> Container:
    """A container like ``container`` whose collection is the corpus's (closed with it)."""

    def build(c: Container) -> Container:
        from loregate.container import Container as ContainerCls

        settings = c.settings.model_copy(update={"collection": corpus.collection})
        child = ContainerCls(settings)
        c.on_close(child.aclose)
        return child

    built: Container = container.part(f"evals.container:{corpus.collection}", build)
    return built


def ingest_corpus(container: Container, corpus: Corpus, progress: Any = None) -> IngestReport:
    """Ingest the corpus into ``container``'s collection: incremental (unchanged documents are
    skipped without embedding) and pruned (a document gone from the corpus is deleted)."""
    from ingest.documents import ParsedDocument
    from loregate.wiring.ingest import ingestor

    docs = [
        ParsedDocument(
            doc_id=d.doc_id,
            title=d.title,
            text=d.text,
            doc_type=d.doc_type,  # type: ignore[arg-type]
            access=d.access,
            department=d.department,
            tags=d.tags,
            source=d.source,
        )
        for d in corpus.docs
    ]
    return ingestor(container).ingest_documents(
        docs, scope=corpus.name, prune=True, progress=progress
    )


def in_process_answerer(container: Container, route: str | None) -> Answerer:
    from evals.answerers import InProcessAnswerer
    from loregate.wiring.retrieval import answer_service

    return InProcessAnswerer(answer_service(container), route=route)


def scorer(container: Container, *, judge_route: str | None, offline: bool = True) -> MetricScorer:
    """IR + offline ragas metrics with our embedder; judged metrics when ``judge_route``."""
    from evals.metrics.scorer import MetricScorer
    from loregate.wiring import store as store_wiring

    embedder = store_wiring.embedder(container)
    judge = None
    if judge_route:
        from evals.metrics.judge import JudgedRagas, make_gateway_llm
        from loregate.wiring import gateway as gateway_wiring

        gw = gateway_wiring.gateway(container)
        gw.route_name(judge_route)  # UnknownModel (a clear 404-style error) when unknown
        llm = make_gateway_llm(gw, judge_route)
        judge = JudgedRagas(llm, embedder, label=judge_route)
    return MetricScorer(embedder, offline=offline, judge=judge)


def _safe(what: str, fn: Any) -> Any:
    try:
        return fn()
    except Exception as exc:  # a snapshot is best effort: a missing part is not a failure
        log.debug("snapshot: no %s (%s: %s)", what, type(exc).__name__, exc)
        return None


def judge_label(container: Container, judge_route: str | None) -> str | None:
    """The judge route and the models behind it ("local" marks a weak, local judge)."""
    if not judge_route:
        return None
    from loregate.wiring import gateway as gateway_wiring

    gw = gateway_wiring.gateway(container)
    tiers = _safe("judge tiers", lambda: gw.route_tiers(gw.route_name(judge_route))) or []
    models = [c.spec.alias for t in tiers for c in t.candidates]
    label = f"{judge_route} ({', '.join(models)})" if models else judge_route
    providers = {c.spec.provider for t in tiers for c in t.candidates}
    if providers and providers <= {"local"}:
        label += " [local model]"
    return label


def in_process_snapshot(
    container: Container,
    *,
    route: str | None,
    judge_route: str | None,
    corpus: Corpus | None,
) -> Snapshot:
    from loregate import __version__
    from loregate.wiring import gateway as gateway_wiring
    from loregate.wiring import store as store_wiring
    from loregate.wiring.ingest import ingestor
    from retrieval import index_version
    from retrieval.prompt_layout import PROMPT_ID

    settings = container.settings
    gw = gateway_wiring.gateway(container)
    from loregate.wiring import governance

    prompt = _safe("prompt", lambda: governance.prompts(container).active(PROMPT_ID).ref)
    route_name = _safe("route", lambda: gw.route_name(route or gw.config.default_route))
    tiers = _safe("tiers", lambda: gw.route_tiers(route_name)) or []
    models = sorted({c.spec.model_id for t in tiers for c in t.candidates})
    emb = store_wiring.embedder(container)
    ing = ingestor(container)
    return Snapshot(
        mode="in-process",
        collection=settings.collection,
        route=route_name,
        prompt_version=prompt,
        routing_version=gw.routing_version,
        index_version=_safe(
            "index version", lambda: index_version.current(container.engine, settings.collection)
        ),
        chunker={"config": ing.chunking.config_id(), "config_hash": ing.config_hash},
        embedder={"model": getattr(emb, "model_name", ""), "config": emb.config_id},
        model_ids=models,
        judge=judge_label(container, judge_route),
        corpus_sha256=corpus.sha256 if corpus else None,
        loregate_version=__version__,
    )


def url_snapshot(
    container: Container, *, url: str, route: str | None, judge_route: str | None
) -> Snapshot:
    from loregate import __version__

    return Snapshot(
        mode="url",
        url=url,
        route=route,
        judge=judge_label(container, judge_route),
        loregate_version=__version__,
    )


def routers(container: Container) -> list[APIRouter]:
    """The HTTP routers this package contributes to the app (none: evals run from the CLI)."""
    return []
