"""What an eval run needs from the object graph: answerers, scorers and run snapshots.

A dataset that carries its own corpus (the Claude-docs set) is answered over the corpus's own
collection: same database, ledger and gateway, another Qdrant collection, so eval corpora never
mix with the company's index. ``Overrides.ask_service`` and ``Overrides.eval_scorer`` put test
doubles in place of the answer service and the scorer.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from evals.corpus import Corpus
from evals.records import Snapshot

if TYPE_CHECKING:
    from evals.answerers import Answerer
    from evals.runner import Scorer
    from ingest.report import IngestReport
    from loregate.graph import Loregate

log = logging.getLogger("loregate.evals")


def collection_of(graph: Loregate, corpus: Corpus | None) -> str:
    """The collection a dataset is answered from: its corpus's own, else the configured one."""
    return corpus.collection if corpus is not None else graph.settings.collection


def ingest_corpus(graph: Loregate, corpus: Corpus, progress: Any = None) -> IngestReport:
    """Ingest the corpus into its own collection: incremental (unchanged documents are
    skipped without embedding) and pruned (a document gone from the corpus is deleted)."""
    from ingest.documents import ParsedDocument

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
    return graph.ingestor(corpus.collection).ingest_documents(
        docs, scope=corpus.name, prune=True, progress=progress
    )


def in_process_answerer(graph: Loregate, collection: str, route: str | None) -> Answerer:
    from evals.answerers import AskService, InProcessAnswerer

    service: AskService = graph.overrides.ask_service or graph.answer_service(collection)
    return InProcessAnswerer(service, route=route)


def scorer(graph: Loregate, *, judge_route: str | None, offline: bool = True) -> Scorer:
    """IR + offline ragas metrics with our embedder; judged metrics when ``judge_route``."""
    if graph.overrides.eval_scorer is not None:
        return graph.overrides.eval_scorer
    from evals.metrics.scorer import MetricScorer

    embedder = graph.embedder
    judge = None
    if judge_route:
        from evals.metrics.judge import JudgedRagas, make_gateway_llm

        gw = graph.gateway
        gw.catalogue.route_name(judge_route)  # UnknownModel (a clear 404-style error) if unknown
        llm = make_gateway_llm(gw, judge_route)
        judge = JudgedRagas(llm, embedder, label=judge_route)
    return MetricScorer(embedder, offline=offline, judge=judge)


def _safe(what: str, fn: Any) -> Any:
    try:
        return fn()
    except Exception as exc:  # a snapshot is best effort: a missing part is not a failure
        log.debug("snapshot: no %s (%s: %s)", what, type(exc).__name__, exc)
        return None


def judge_label(graph: Loregate, judge_route: str | None) -> str | None:
    """The judge route and the models behind it ("local" marks a weak, local judge)."""
    if not judge_route:
        return None
    cat = graph.catalogue
    tiers = _safe("judge tiers", lambda: cat.route_tiers(cat.route_name(judge_route))) or []
    models = [c.spec.alias for t in tiers for c in t.candidates]
    label = f"{judge_route} ({', '.join(models)})" if models else judge_route
    providers = {c.spec.provider for t in tiers for c in t.candidates}
    if providers and providers <= {"local"}:
        label += " [local model]"
    return label


def in_process_snapshot(
    graph: Loregate,
    *,
    collection: str,
    route: str | None,
    judge_route: str | None,
    corpus: Corpus | None,
) -> Snapshot:
    from loregate import __version__
    from retrieval import index_version
    from retrieval.prompt_layout import PROMPT_ID

    cat = graph.catalogue
    prompt = _safe("prompt", lambda: graph.governance_parts.prompts.active(PROMPT_ID).ref)
    route_name = _safe("route", lambda: cat.route_name(route or cat.default_route))
    tiers = _safe("tiers", lambda: cat.route_tiers(route_name)) or []
    models = sorted({c.spec.model_id for t in tiers for c in t.candidates})
    emb = graph.embedder
    ing = graph.ingestor(collection)
    return Snapshot(
        mode="in-process",
        collection=collection,
        route=route_name,
        prompt_version=prompt,
        routing_version=cat.routing_version,
        index_version=_safe(
            "index version",
            lambda: index_version.current(graph.engine, graph.index_name(collection)),
        ),
        chunker={"config": ing.chunking.config_id(), "config_hash": ing.config_hash},
        embedder={"model": getattr(emb, "model_name", ""), "config": emb.config_id},
        model_ids=models,
        judge=judge_label(graph, judge_route),
        corpus_sha256=corpus.sha256 if corpus else None,
        loregate_version=__version__,
    )


def url_snapshot(
    graph: Loregate, *, url: str, route: str | None, judge_route: str | None
) -> Snapshot:
    from loregate import __version__

    return Snapshot(
        mode="url",
        url=url,
        route=route,
        judge=judge_label(graph, judge_route),
        loregate_version=__version__,
    )
