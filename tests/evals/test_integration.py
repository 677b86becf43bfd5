"""Eval runs through the real query path: ingestion, the AnswerService, the Gateway (against
the local emulator), the ledger; the demo suite and the Claude-docs corpus in its own
collection, ingested incrementally."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from evals.dataset_loader import load_dataset
from evals.session import RunRequest, run_sync
from loregate import eval_parts
from loregate.graph import Loregate
from loregate.settings import get_settings
from testkit.embedders import FakeEmbedder
from testkit.emulator import EmulatorServer
from tests.graphs import build_graph

pytestmark = [pytest.mark.slow, pytest.mark.wire]
ROOT = Path(__file__).resolve().parents[2]
BY_KEY = "SELECT key_id, count(*) FROM gateway_ledger WHERE kind = 'request' GROUP BY key_id"


@pytest.fixture
def home(loregate_env: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Loregate]:
    """A graph on a fresh home whose Anthropic provider is the local emulator."""
    with EmulatorServer() as emu:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", emu.base_url)
        monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")
        get_settings.cache_clear()
        graph = build_graph(get_settings(), embedder=FakeEmbedder(dim=64))
        yield graph
        asyncio.run(graph.aclose())
        get_settings.cache_clear()


def _request(g: Loregate, dataset: object, corpus: Any = None) -> RunRequest:
    collection = eval_parts.collection_of(g, corpus)
    return RunRequest(
        dataset=dataset,  # type: ignore[arg-type]
        answerer=eval_parts.in_process_answerer(g, collection, None),
        scorer=eval_parts.scorer(g, judge_route=None, offline=True),
        snapshot=eval_parts.in_process_snapshot(
            g, collection=collection, route=None, judge_route=None, corpus=corpus
        ),
        concurrency=2,
    )


def test_demo_suite_through_the_answer_service(home: Loregate) -> None:
    report = home.ingestor().ingest_path(
        [ROOT / "demo" / "corpus"], manifest=ROOT / "demo" / "manifest.yaml"
    )
    assert report.ok and len(report.added) == 13
    suite = load_dataset(ROOT / "evals" / "suites" / "demo.jsonl")
    wanted = {
        "legal-msa-cap",
        "legal-msa-termination",
        "access-hr-asks-legal",
        "public-remote-work",
    }
    ds = suite.model_copy(update={"items": [i for i in suite.items if i.id in wanted]})
    store = home.run_store
    outcome = run_sync(store, _request(home, ds), close=home.aclose)
    results = {r.item_id: r for r in store.results(outcome.run.id)}
    assert all(r.ok for r in results.values()), [r.error for r in results.values()]

    legal = results["legal-msa-cap"]
    assert legal.answer is not None and legal.answer.tier == 0
    assert "northwind:contracts/acme-msa.md" in {p.doc_id for p in legal.answer.passages}
    assert legal.metrics["recall@10"] == 1.0 and legal.metrics["id_context_recall"] == 1.0
    assert legal.answer.cost_usd > 0 and legal.answer.tokens.input > 0

    hr = results["access-hr-asks-legal"]  # HR asks a Legal-only question
    assert hr.answer is not None and hr.metrics["leaks"] == 0.0
    assert not any(p.doc_id.startswith("northwind:contracts/") for p in hr.answer.passages)
    assert outcome.summary["leaks"] == 0.0 and outcome.summary["n"] == 4

    snap = outcome.run.snapshot
    assert snap.routing_version and snap.index_version == report.index_version
    assert snap.prompt_version and snap.prompt_version.startswith("answer@")
    assert snap.embedder["config"] == "fake:64" and snap.chunker["config_hash"]
    assert "claude-haiku-4-5-20251001" in snap.model_ids

    with home.engine.connect() as conn:  # every answer is in the ledger
        rows = conn.execute(
            sa.text("SELECT count(*) FROM gateway_ledger WHERE kind = 'request'")
        ).scalar_one()
    assert rows >= 4


def test_claude_docs_corpus_in_its_own_collection_incrementally(
    home: Loregate, shared_data: Path
) -> None:
    ds = load_dataset(shared_data / "anthropic_docs_rag").limited(3)
    corpus = ds.corpus
    assert corpus is not None
    assert eval_parts.collection_of(home, corpus) == "evals_claude_docs"
    first = eval_parts.ingest_corpus(home, corpus)
    assert len(first.added) == 232 and first.chunks_written >= 232
    second = eval_parts.ingest_corpus(home, corpus)  # a second run re-embeds nothing
    assert len(second.unchanged) == 232 and second.chunks_written == 0
    assert second.index_version == first.index_version

    outcome = run_sync(home.run_store, _request(home, ds, corpus), close=home.aclose)
    results = home.run_store.results(outcome.run.id)
    assert [r.ok for r in results] == [True, True, True]
    for r in results:
        assert r.answer is not None
        assert all(p.doc_id.startswith("https://docs.claude.com/") for p in r.answer.passages)
    assert outcome.summary["recall@10"] is not None and outcome.summary["recall@10"] > 0
    assert outcome.run.snapshot.collection == "evals_claude_docs"
    assert outcome.run.snapshot.corpus_sha256 == corpus.sha256


def test_url_mode_against_the_http_api_with_evaluator_and_hr_keys(home: Loregate) -> None:
    import httpx

    from evals.answerers import HttpAnswerer
    from evals.metrics.scorer import MetricScorer
    from evals.records import Snapshot
    from loregate.app import create_app

    home.ingestor().ingest_path(
        [ROOT / "demo" / "corpus"], manifest=ROOT / "demo" / "manifest.yaml"
    )
    keys = home.governance_parts.keys
    evaluator = keys.create(user="ci-evals", department="evals", role="evaluator")
    hr = keys.create(user="hana", department="hr")
    app = create_app(graph=home)
    answerer = HttpAnswerer(
        "http://loregate.test",
        evaluator.key,
        principal_keys={"hana": hr.key},
        transport=httpx.ASGITransport(app=app),
    )
    suite = load_dataset(ROOT / "evals" / "suites" / "demo.jsonl")
    wanted = {"access-hr-asks-legal", "public-restocking-fee", "hr-merit-budget"}
    ds = suite.model_copy(update={"items": [i for i in suite.items if i.id in wanted]})
    req = RunRequest(
        dataset=ds,
        answerer=answerer,
        scorer=MetricScorer(None, offline=False),
        snapshot=Snapshot(mode="url", url="http://loregate.test"),
    )
    store = home.run_store
    outcome = run_sync(store, req, close=home.aclose)
    results = {r.item_id: r for r in store.results(outcome.run.id)}
    assert all(r.ok for r in results.values()), [r.error for r in results.values()]
    hr_legal = results["access-hr-asks-legal"].answer
    assert hr_legal is not None and results["access-hr-asks-legal"].metrics["leaks"] == 0.0
    assert not any(p.doc_id.startswith("northwind:contracts/") for p in hr_legal.passages)
    merit = results["hr-merit-budget"]  # HR's own key reads HR documents
    assert merit.metrics["recall@10"] == 1.0
    refund = results["public-restocking-fee"]
    assert refund.metrics["recall@10"] == 1.0  # the evaluator key reads public documents
    with home.engine.connect() as conn:
        by_key = dict(conn.execute(sa.text(BY_KEY)).all())
    assert by_key.get(evaluator.record.id) == 1 and by_key.get(hr.record.id) == 2
