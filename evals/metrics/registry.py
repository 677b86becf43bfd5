"""Every metric a run reports: its name, which way is better, and what it means.

Per-question metrics are stored with each result; run metrics (the summary) are computed from
them. The names are what ``--fail-on``, ``compare`` and the report use.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Direction = Literal["higher", "lower", "neutral"]
Group = Literal["retrieval", "answer", "judged", "cost", "latency", "routing", "safety"]


@dataclass(frozen=True)
class MetricInfo:
    name: str
    group: Group
    direction: Direction
    description: str
    fmt: str = "{:.3f}"

    def format(self, value: float | None) -> str:
        return "–" if value is None else self.fmt.format(value)


_M = MetricInfo
K_VALUES = (1, 3, 5, 10)

QUESTION_METRICS: tuple[MetricInfo, ...] = (
    *(
        _M(f"recall@{k}", "retrieval", "higher", f"share of gold documents among the top {k} sent")
        for k in K_VALUES
    ),
    _M("mrr", "retrieval", "higher", "1 / rank of the first gold document sent"),
    _M("ndcg@10", "retrieval", "higher", "nDCG of the passages sent, against the gold documents"),
    _M("id_context_recall", "retrieval", "higher", "ragas IDBasedContextRecall (gold ids found)"),
    _M("id_context_precision", "retrieval", "higher", "ragas IDBasedContextPrecision"),
    _M("context_recall", "retrieval", "higher", "ragas NonLLMContextRecall (gold texts matched)"),
    _M(
        "context_precision",
        "retrieval",
        "higher",
        "ragas NonLLMContextPrecisionWithReference (rank-weighted)",
    ),
    _M("rouge_l", "answer", "higher", "ragas RougeScore (ROUGE-L F1 vs the reference answer)"),
    _M("token_f1", "answer", "higher", "word-overlap F1 of a confident answer vs the reference"),
    _M("cites_gold", "answer", "higher", "1 when a confident answer cites a gold document"),
    _M("string_similarity", "answer", "higher", "ragas NonLLMStringSimilarity (Levenshtein)"),
    _M("semantic_similarity", "answer", "higher", "ragas SemanticSimilarity, our embedder"),
    _M("faithfulness", "judged", "higher", "ragas Faithfulness (LLM judge)"),
    _M("answer_relevancy", "judged", "higher", "ragas ResponseRelevancy (LLM judge + embedder)"),
    _M("factual_correctness", "judged", "higher", "ragas FactualCorrectness (LLM judge, F1)"),
    _M("cost_usd", "cost", "lower", "cost of the answer, all tiers", "${:.5f}"),
    _M("latency_ms", "latency", "lower", "answer latency (server-side)", "{:.0f} ms"),
    _M("tier", "routing", "neutral", "tier that answered (0 = the cheapest)", "{:.0f}"),
    _M("escalations", "routing", "lower", "escalation steps taken", "{:.0f}"),
    _M("cache_read_share", "cost", "higher", "cache-read share of input tokens", "{:.1%}"),
    _M("confident", "answer", "higher", "1 when the answer was not degraded", "{:.0f}"),
    _M("cited", "answer", "higher", "1 when the answer cites a source", "{:.0f}"),
    _M("leaks", "safety", "lower", "passages or citations from forbidden documents", "{:.0f}"),
)

RUN_METRICS: tuple[MetricInfo, ...] = (
    _M("n", "routing", "neutral", "questions scored", "{:.0f}"),
    _M("error_rate", "answer", "lower", "share of questions that failed", "{:.1%}"),
    *(
        m
        for m in QUESTION_METRICS
        if m.group in ("retrieval", "answer", "judged") and m.name not in ("confident", "cited")
    ),
    _M("confident", "answer", "higher", "share of answers given with confidence", "{:.1%}"),
    _M("cited", "answer", "higher", "share of answers citing a source", "{:.1%}"),
    _M("cost_per_answer", "cost", "lower", "mean cost of an answer", "${:.5f}"),
    _M("cost_total", "cost", "lower", "total cost of the run", "${:.4f}"),
    _M("cost_per_1k", "cost", "lower", "cost of 1,000 answers", "${:.3f}"),
    _M("cache_read_share", "cost", "higher", "cache-read tokens / all input tokens", "{:.1%}"),
    _M("input_tokens", "cost", "lower", "mean input tokens (uncached)", "{:.0f}"),
    _M("output_tokens", "cost", "lower", "mean output tokens", "{:.0f}"),
    _M("latency_p50", "latency", "lower", "median latency", "{:.0f} ms"),
    _M("latency_p95", "latency", "lower", "95th percentile latency", "{:.0f} ms"),
    _M("latency_p99", "latency", "lower", "99th percentile latency", "{:.0f} ms"),
    _M("tier0_share", "routing", "neutral", "share answered by tier 0 (the cheapest)", "{:.1%}"),
    _M("tier1_share", "routing", "neutral", "share answered by tier 1", "{:.1%}"),
    _M("tier2_share", "routing", "neutral", "share answered by tier 2 or later", "{:.1%}"),
    _M("escalation_rate", "routing", "lower", "share of answers that escalated", "{:.1%}"),
    _M("answered_share", "answer", "higher", "share answered by the first tier", "{:.1%}"),
    _M("escalated_share", "routing", "neutral", "share answered after escalating", "{:.1%}"),
    _M("degraded_share", "answer", "lower", "share with no confident answer", "{:.1%}"),
    _M("unreachable_share", "answer", "lower", "share where no model could be reached", "{:.1%}"),
    _M(
        "confident_precision",
        "answer",
        "higher",
        "share of confident answers that cite a gold document",
        "{:.1%}",
    ),
    _M("cached_share", "cost", "neutral", "share served by the response cache", "{:.1%}"),
    _M("leaks", "safety", "lower", "forbidden passages or citations, total", "{:.0f}"),
)

_BY_NAME = {m.name: m for m in (*QUESTION_METRICS, *RUN_METRICS)}


def info(name: str) -> MetricInfo:
    """The metric's description (unknown names get a neutral one)."""
    return _BY_NAME.get(name) or MetricInfo(name, "answer", "neutral", name)


def known_run_metrics() -> list[str]:
    return [m.name for m in RUN_METRICS]


def quality_metric_names() -> list[str]:
    """Per-question scores in [0, 1] where higher is better (used to rank worst questions)."""
    return [
        m.name
        for m in QUESTION_METRICS
        if m.group in ("retrieval", "answer", "judged") and m.name not in ("confident", "cited")
    ]
