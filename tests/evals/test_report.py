"""The report's contents: parsed HTML and Markdown, not just files on disk."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import lxml.html
import pytest

from evals.answerers import InProcessAnswerer
from evals.dataset import Dataset, EvalItem
from evals.records import Snapshot
from evals.report.model import WEAK_JUDGE_NOTE
from evals.report.render import render_html, render_markdown, write_reports
from evals.run_store import RunStore
from evals.runner import EvalRunner
from evals.session import compare, report_data
from retrieval.answer_types import Answer
from testkit.answer_service import StubAnswerService


class Scorer:
    async def score(self, item: EvalItem, answer: Answer) -> dict[str, float | None]:
        sent = [p.doc_id for p in sorted(answer.passages, key=lambda p: -p.score)]
        hit = 1.0 if item.gold_ids and item.gold_ids[0] in sent[:5] else 0.0
        return {
            "recall@5": hit,
            "mrr": hit,
            "rouge_l": 0.9 if answer.confident else 0.1,
            "leaks": 0.0,
            "escalations": float(len(answer.escalations)),
            "confident": float(answer.confident),
        }


def _run(store: RunStore, ds: Dataset, quality: float, seed: int, judge: str | None) -> str:
    run = store.create_run(
        dataset_name=ds.name,
        dataset_path=ds.path,
        dataset_sha256=ds.sha256,
        n_items=len(ds.items),
        snapshot=Snapshot(mode="in-process", judge=judge, routing_version="abc123"),
        label=f"q={quality}",
    )
    svc = StubAnswerService(ds.items, quality=quality, seed=seed, fail_ids=["q5"])
    asyncio.run(EvalRunner(store, InProcessAnswerer(svc), Scorer()).run(run, ds.items))
    return run.id


@pytest.fixture
def runs(store: RunStore, dataset: Dataset) -> tuple[str, str]:
    base = _run(store, dataset, 0.3, 1, None)
    cand = _run(store, dataset, 0.9, 2, "local (local) [local model]")
    return base, cand


def test_html_report_has_figures_plots_and_worst_questions(
    store: RunStore, dataset: Dataset, runs: tuple[str, str], tmp_path: Path
) -> None:
    base, cand = (store.get(r) for r in runs)
    cmp = compare(store, base, cand)
    data = report_data(store, cand, comparison=cmp, dataset=dataset)
    html_path, md_path = write_reports(data, tmp_path)
    doc = lxml.html.fromstring(html_path.read_text(encoding="utf-8"))

    # self-contained: no external stylesheet, script or image
    assert not doc.xpath("//link[@rel='stylesheet'] | //script[@src] | //img[@src]")
    assert doc.xpath("//style")

    # headline cards and the full table carry the run's own figures
    cards = {c.get("data-metric"): c for c in doc.xpath("//div[@class='card']")}
    assert cards["recall@5"].xpath("string(.//div[@class='v'])") == (
        f"{cand.summary['recall@5']:.3f}"
    )
    assert "vs baseline" in cards["recall@5"].text_content()
    row = doc.xpath("//section[@id='metrics']//tr[@data-metric='cost_per_answer']")[0]
    assert f"${cand.summary['cost_per_answer']:.5f}" in row.text_content()
    assert row.xpath("string(td[5])") in ("better", "worse", "same")

    # one inline SVG per plot
    plots = {f.get("data-plot"): f for f in doc.xpath("//figure")}
    assert {
        "metric-distributions",
        "cost-per-question",
        "tier-mix",
        "latency",
        "comparison",
    } <= set(plots)
    for fig in plots.values():
        assert fig.xpath(".//*[local-name()='svg']"), fig.get("data-plot")
    tier_svg = lxml.html.tostring(plots["tier-mix"]).decode()
    assert "tier 0 (claude-haiku-4-5)" in tier_svg and "error" in tier_svg

    # the worst questions: lowest scores first, each with answer, contexts and citations
    worst = doc.xpath("//section[@id='worst']/article")
    assert 1 <= len(worst) <= 10
    ids = [a.get("data-item-id") for a in worst]
    results = {r.item_id: r for r in store.results(cand.id)}
    first = results[ids[0]]
    assert first.answer is not None
    assert worst[0].xpath("string(.//div[@data-role='answer'])") == first.answer.answer
    ctx = worst[0].xpath(".//ol[@class='contexts']/li")
    assert [li.get("data-doc-id") for li in ctx] == [p.doc_id for p in first.answer.passages]
    gold = [li for li in ctx if "gold" in (li.get("class") or "")]
    assert [li.get("data-doc-id") for li in gold] == [
        p.doc_id
        for p in first.answer.passages
        if p.doc_id in dataset.items[int(ids[0][1:])].gold_ids
    ]
    scores = [
        float(re.search(r"score (\d\.\d\d)", a.text_content()).group(1))  # type: ignore[union-attr]
        for a in worst
    ]
    assert scores == sorted(scores)

    # the failed question and the weak-judge warning are shown
    assert doc.xpath("//section[@id='failed']//tr[@data-item-id='q5']")
    assert WEAK_JUDGE_NOTE in doc.text_content()
    assert doc.xpath("//section[@id='changed']//tr[@data-item-id]")
    assert "abc123" in doc.xpath("string(//section[@id='snapshot'])")
    assert md_path.exists()


def test_markdown_report_mirrors_the_html(
    store: RunStore, dataset: Dataset, runs: tuple[str, str]
) -> None:
    base, cand = (store.get(r) for r in runs)
    data = report_data(store, cand, comparison=compare(store, base, cand), dataset=dataset)
    md = render_markdown(data)
    headings = re.findall(r"^(#+) (.+)$", md, re.MULTILINE)
    titles = [t for _, t in headings]
    assert titles[0].startswith(f"Eval {cand.id}: mini (finished)")
    assert {
        "Figures",
        "Tier mix",
        "Questions that changed most",
        "What produced this run",
        "Failed questions (1)",
    } <= set(titles)
    worst = [t for level, t in headings if level == "###"]
    assert len(worst) == len(data.worst) and worst[0] == data.worst[0].result.question
    table = {
        m[0]: m[1:]
        for m in re.findall(
            r"^\| ([\w@]+) \| ([^|]+) \| ([^|]+) \| ([^|]+) \| ([^|]+) \| (\w+|n/a) \|$",
            md,
            re.MULTILINE,
        )
    }
    assert table["recall@5"][0].strip() == f"{cand.summary['recall@5']:.3f}"
    assert table["recall@5"][1].strip() == f"{base.summary['recall@5']:.3f}"
    assert "**Contexts sent:**" in md and "✅ gold" in md
    html = render_html(data)
    assert data.worst[0].result.question in html


def test_report_of_an_unfinished_run_without_baseline(
    store: RunStore, dataset: Dataset, runs: tuple[str, str]
) -> None:
    _, cand = runs
    store.finish(cand, status="interrupted", summary={})
    data = report_data(store, store.get(cand), dataset=dataset)
    assert any("interrupted" in n for n in data.notes)
    assert data.rows and data.comparison is None  # figures recomputed from the results
    doc = lxml.html.fromstring(render_html(data))
    assert not doc.xpath("//section[@id='changed']")
    assert "baseline" not in doc.xpath("string(//section[@id='metrics']//thead)")


def test_a_judge_that_scored_nothing_is_called_out(
    store: RunStore, dataset: Dataset, runs: tuple[str, str]
) -> None:
    _, cand = runs  # its snapshot names a local judge, and no judged score was produced
    data = report_data(store, store.get(cand), dataset=dataset)
    assert WEAK_JUDGE_NOTE in data.notes
    assert any(n.startswith("The judge produced 0 of 15 judged scores") for n in data.notes)
