"""Comparing two runs: per-metric deltas with paired bootstrap confidence intervals.

Questions are paired by id (only questions both runs answered count). For each metric the
statistic (a mean, a ratio of sums or a percentile) is computed on the same resample of
questions in both runs, ``n_boot`` times; the interval is the percentile interval of the
differences. A fixed seed makes a comparison reproducible.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from evals.metrics.registry import info, quality_metric_names
from evals.records import QuestionResult, RunInfo

Array = NDArray[np.float64]
Stat = Callable[[Array], float]


@dataclass(frozen=True)
class MetricDelta:
    name: str
    baseline: float | None
    candidate: float | None
    delta: float | None
    ci_low: float | None
    ci_high: float | None
    n: int

    @property
    def relative(self) -> float | None:
        if self.baseline is None or self.delta is None or self.baseline == 0:
            return None
        return self.delta / abs(self.baseline)

    @property
    def significant(self) -> bool:
        """The interval excludes zero."""
        if self.ci_low is None or self.ci_high is None:
            return False
        return self.ci_low > 0 or self.ci_high < 0

    @property
    def verdict(self) -> str:
        """better | worse | same (not significant) | n/a, by the metric's direction."""
        if self.delta is None:
            return "n/a"
        direction = info(self.name).direction
        if not self.significant or direction == "neutral":
            return "same"
        up = self.delta > 0
        return "better" if up == (direction == "higher") else "worse"


@dataclass(frozen=True)
class QuestionChange:
    item_id: str
    question: str
    baseline_score: float
    candidate_score: float
    changed: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)
    baseline_answer: str = ""
    candidate_answer: str = ""

    @property
    def delta(self) -> float:
        return self.candidate_score - self.baseline_score


@dataclass(frozen=True)
class Comparison:
    baseline: RunInfo
    candidate: RunInfo
    n_paired: int
    deltas: list[MetricDelta]
    changes: list[QuestionChange]

    def delta(self, name: str) -> MetricDelta | None:
        return next((d for d in self.deltas if d.name == name), None)


def _pct(p: float) -> Stat:
    def stat(a: Array) -> float:
        return float(np.nanpercentile(a, p)) if np.isfinite(a).any() else math.nan

    return stat


def _nanmean(a: Array) -> float:
    return float(np.nanmean(a)) if np.isfinite(a).any() else math.nan


def paired_bootstrap(
    base: Array,
    cand: Array,
    stat: Stat,
    *,
    n_boot: int = 2000,
    seed: int = 7,
    alpha: float = 0.05,
) -> tuple[float, float, float]:
    """(point delta, low, high) of ``stat(cand) - stat(base)`` over paired resamples."""
    point = stat(cand) - stat(base)
    n = len(base)
    if n == 0 or math.isnan(point):
        return math.nan, math.nan, math.nan
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(n_boot, n))
    diffs = np.array([stat(cand[i]) - stat(base[i]) for i in idx], dtype=np.float64)
    diffs = diffs[np.isfinite(diffs)]
    if diffs.size == 0:
        return point, math.nan, math.nan
    low, high = np.percentile(diffs, [100 * alpha / 2, 100 * (1 - alpha / 2)])
    return point, float(low), float(high)


def _series(results: Sequence[QuestionResult], name: str) -> Array:
    out = []
    for r in results:
        v = r.metrics.get(name)
        out.append(math.nan if v is None else float(v))
    return np.array(out, dtype=np.float64)


def _answer_field(results: Sequence[QuestionResult], getter: Callable[..., float]) -> Array:
    return np.array(
        [getter(r.answer) if r.answer is not None else math.nan for r in results], dtype=np.float64
    )


def _metric_arrays(
    results: Sequence[QuestionResult],
) -> dict[str, tuple[Array, Stat]]:
    """Per-question arrays and the statistic that turns each into the run metric."""
    arrays: dict[str, tuple[Array, Stat]] = {}
    for name in (*quality_metric_names(), "confident", "cited"):
        arrays[name] = (_series(results, name), _nanmean)
    cost = _answer_field(results, lambda a: a.cost_usd)
    arrays["cost_per_answer"] = (cost, _nanmean)
    lat = _answer_field(results, lambda a: a.latency_ms)
    for p in (50, 95, 99):
        arrays[f"latency_p{p}"] = (lat, _pct(p))
    reads = _answer_field(results, lambda a: a.tokens.cache_read)
    total = _answer_field(
        results, lambda a: a.tokens.input + a.tokens.cache_read + a.tokens.cache_write
    )
    # A ratio of sums: one row per question (reads, total); resampling picks whole rows.
    arrays["cache_read_share"] = (np.stack([reads, total], axis=1), _ratio_of_sums)
    esc = _series(results, "escalations")
    arrays["escalation_rate"] = (np.where(np.isnan(esc), np.nan, (esc > 0).astype(float)), _nanmean)
    arrays["degraded_share"] = (1.0 - _series(results, "confident"), _nanmean)
    arrays["leaks"] = (_series(results, "leaks"), lambda a: float(np.nansum(a)))
    return arrays


def _ratio_of_sums(pairs: Array) -> float:
    den = float(np.nansum(pairs[:, 1]))
    return float(np.nansum(pairs[:, 0])) / den if den else math.nan


def _clean(x: float) -> float | None:
    return None if math.isnan(x) else x


def compare_runs(
    baseline: RunInfo,
    base_results: Sequence[QuestionResult],
    candidate: RunInfo,
    cand_results: Sequence[QuestionResult],
    *,
    n_boot: int = 2000,
    seed: int = 7,
    top: int = 10,
) -> Comparison:
    base_ok = {r.item_id: r for r in base_results if r.ok}
    cand_ok = {r.item_id: r for r in cand_results if r.ok}
    ids = [r.item_id for r in cand_results if r.item_id in base_ok and r.item_id in cand_ok]
    b = [base_ok[i] for i in ids]
    c = [cand_ok[i] for i in ids]
    bm, cm = _metric_arrays(b), _metric_arrays(c)
    deltas: list[MetricDelta] = []
    for name, (bv, stat) in bm.items():
        cv = cm[name][0]
        point, low, high = paired_bootstrap(bv, cv, stat, n_boot=n_boot, seed=seed)
        deltas.append(
            MetricDelta(
                name=name,
                baseline=_clean(stat(bv)) if ids else None,
                candidate=_clean(stat(cv)) if ids else None,
                delta=_clean(point),
                ci_low=_clean(low),
                ci_high=_clean(high),
                n=len(ids),
            )
        )
    return Comparison(
        baseline=baseline,
        candidate=candidate,
        n_paired=len(ids),
        deltas=deltas,
        changes=question_changes(b, c, top=top),
    )


def question_score(r: QuestionResult, names: Sequence[str] | None = None) -> float | None:
    """One number per question for ranking: the mean of its quality metrics that apply
    (of ``names`` when given)."""
    vals = [r.metrics.get(n) for n in (names if names is not None else quality_metric_names())]
    xs = [v for v in vals if v is not None and not math.isnan(v)]
    return float(np.mean(xs)) if xs else None


def question_changes(
    base: Sequence[QuestionResult], cand: Sequence[QuestionResult], *, top: int = 10
) -> list[QuestionChange]:
    """The paired questions whose score moved most (either way), largest first."""
    changes = []
    for b, c in zip(base, cand, strict=True):
        # Score both on the metrics both have (a run without ragas has fewer of them).
        common = [
            n
            for n in quality_metric_names()
            if b.metrics.get(n) is not None and c.metrics.get(n) is not None
        ]
        sb, sc = question_score(b, common), question_score(c, common)
        if sb is None or sc is None:
            continue
        moved = {
            n: (b.metrics.get(n), c.metrics.get(n))
            for n in common
            if b.metrics.get(n) != c.metrics.get(n)
        }
        changes.append(
            QuestionChange(
                item_id=c.item_id,
                question=c.question,
                baseline_score=sb,
                candidate_score=sc,
                changed=moved,
                baseline_answer=b.answer.answer if b.answer else "",
                candidate_answer=c.answer.answer if c.answer else "",
            )
        )
    changes.sort(key=lambda ch: abs(ch.delta), reverse=True)
    return [ch for ch in changes if ch.delta != 0][:top]
