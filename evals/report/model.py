"""What a report shows, computed once and rendered as HTML and Markdown."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from evals.compare import Comparison, question_score
from evals.metrics.operational import summarize, tier_mix
from evals.metrics.registry import RUN_METRICS, MetricInfo, info
from evals.records import QuestionResult, RunInfo

HEADLINE = (
    "recall@5",
    "mrr",
    "ndcg@10",
    "semantic_similarity",
    "faithfulness",
    "cost_per_answer",
    "latency_p50",
    "cache_read_share",
    "tier0_share",
    "leaks",
)

WEAK_JUDGE_NOTE = (
    "The LLM-judged scores (faithfulness, answer relevancy, factual correctness) came from a "
    "small local model. Such a judge is weak: treat these scores as a smoke signal, not as a "
    "measure of quality."
)


@dataclass(frozen=True)
class MetricRow:
    info: MetricInfo
    value: float | None
    baseline: float | None = None
    delta: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    verdict: str = ""

    @property
    def shown(self) -> str:
        return self.info.format(self.value)


@dataclass(frozen=True)
class ContextView:
    rank: int
    doc_id: str
    title: str
    section: str
    score: float
    text: str
    gold: bool
    forbidden: bool


@dataclass(frozen=True)
class QuestionView:
    result: QuestionResult
    score: float | None
    contexts: list[ContextView]
    gold_ids: list[str]


@dataclass
class ReportData:
    run: RunInfo
    results: list[QuestionResult]
    rows: list[MetricRow]
    headline: list[MetricRow]
    worst: list[QuestionView]
    failed: list[QuestionResult]
    tiers: dict[str, int]
    comparison: Comparison | None = None
    notes: list[str] = field(default_factory=list)
    gold_ids: dict[str, list[str]] = field(default_factory=dict)

    @property
    def duration_s(self) -> float | None:
        if self.run.finished_at is None:
            return None
        return self.run.finished_at - self.run.created_at


def _is_num(v: float | None) -> bool:
    return v is not None and not math.isnan(v)


def question_view(r: QuestionResult, gold: list[str], forbidden: list[str]) -> QuestionView:
    contexts = []
    if r.answer is not None:
        for i, p in enumerate(r.answer.passages, start=1):
            contexts.append(
                ContextView(
                    rank=i,
                    doc_id=p.doc_id,
                    title=p.title,
                    section=p.section,
                    score=p.score,
                    text=p.text,
                    gold=p.doc_id in gold or p.chunk_id in gold,
                    forbidden=p.doc_id in forbidden,
                )
            )
    return QuestionView(result=r, score=question_score(r), contexts=contexts, gold_ids=gold)


def build_report(
    run: RunInfo,
    results: list[QuestionResult],
    *,
    comparison: Comparison | None = None,
    gold: dict[str, list[str]] | None = None,
    forbidden: dict[str, list[str]] | None = None,
    worst_n: int = 10,
) -> ReportData:
    """``gold``/``forbidden``: item id -> doc ids (from the dataset, when it is at hand)."""
    gold = gold or {}
    forbidden = forbidden or {}
    summary = run.summary or summarize(results)  # an unfinished run has no stored summary
    rows = []
    for m in RUN_METRICS:
        value = summary.get(m.name)
        d = comparison.delta(m.name) if comparison else None
        if value is None and (d is None or d.baseline is None):
            continue
        rows.append(
            MetricRow(
                info=m,
                value=value,
                baseline=d.baseline if d else None,
                delta=d.delta if d else None,
                ci_low=d.ci_low if d else None,
                ci_high=d.ci_high if d else None,
                verdict=d.verdict if d else "",
            )
        )
    by_name = {r.info.name: r for r in rows}
    headline = [by_name[n] for n in HEADLINE if n in by_name and _is_num(by_name[n].value)]
    scored = [r for r in results if r.ok and question_score(r) is not None]
    scored.sort(key=lambda r: (question_score(r) or 0.0, r.position))
    worst = [
        question_view(r, gold.get(r.item_id, []), forbidden.get(r.item_id, []))
        for r in scored[:worst_n]
    ]
    notes = []
    judge = run.snapshot.judge
    if judge and "local" in judge.lower():
        notes.append(WEAK_JUDGE_NOTE)
    if judge:
        judged = ("faithfulness", "answer_relevancy", "factual_correctness")
        n_judged = sum(1 for r in results for m in judged if r.metrics.get(m) is not None)
        possible = sum(1 for r in results if r.ok) * len(judged)
        if possible and n_judged < possible:
            notes.append(
                f"The judge produced {n_judged} of {possible} judged scores; the others are "
                "missing (it could not answer in the JSON ragas expects, or its call failed) "
                "and count for nothing in the means."
            )
    if not judge:
        notes.append(
            "No judge route was configured: faithfulness, answer relevancy and factual "
            "correctness were not scored (pass --judge ROUTE)."
        )
    if run.status != "finished":
        notes.append(f"This run is {run.status}: figures cover the questions answered so far.")
    return ReportData(
        run=run,
        results=results,
        rows=rows,
        headline=headline,
        worst=worst,
        failed=[r for r in results if not r.ok],
        tiers=tier_mix(results),
        comparison=comparison,
        notes=notes,
        gold_ids=gold,
    )


def describe(name: str) -> str:
    return info(name).description
