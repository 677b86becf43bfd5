"""Comparing runs: paired bootstrap intervals on known data, and the questions that moved."""

from __future__ import annotations

import numpy as np
import pytest

from evals.compare import compare_runs, paired_bootstrap, question_changes
from tests.evals.helpers import result, run_info


def _nanmean(a: np.ndarray) -> float:
    return float(np.nanmean(a)) if np.isfinite(a).any() else float("nan")


def test_a_constant_shift_has_a_zero_width_interval() -> None:
    base = np.linspace(0.2, 0.8, 40)
    point, low, high = paired_bootstrap(base, base + 0.1, _nanmean)
    assert point == pytest.approx(0.1)
    assert low == pytest.approx(0.1) and high == pytest.approx(0.1)


def test_interval_matches_the_normal_approximation_on_known_data() -> None:
    rng = np.random.default_rng(1)
    base = rng.uniform(0, 1, 400)
    diff = rng.normal(0.05, 0.2, 400)
    point, low, high = paired_bootstrap(base, base + diff, _nanmean, n_boot=4000)
    se = diff.std(ddof=1) / np.sqrt(len(diff))
    assert point == pytest.approx(diff.mean())
    assert low == pytest.approx(diff.mean() - 1.96 * se, abs=0.004)
    assert high == pytest.approx(diff.mean() + 1.96 * se, abs=0.004)
    # reproducible: the same seed gives the same interval
    assert paired_bootstrap(base, base + diff, _nanmean, n_boot=4000) == (point, low, high)


def test_empty_and_all_missing_give_nan() -> None:
    empty = np.array([], dtype=float)
    assert all(np.isnan(x) for x in paired_bootstrap(empty, empty, _nanmean))
    nan = np.full(5, np.nan)
    point, low, _high = paired_bootstrap(nan, nan, lambda a: float("nan"))
    assert np.isnan(point) and np.isnan(low)


def _runs() -> tuple[list, list]:
    base = [
        result(
            "q1", 0, metrics={"recall@5": 1.0, "mrr": 1.0}, cost=0.002, cache_read=0, fresh=1000
        ),
        result(
            "q2", 1, metrics={"recall@5": 0.0, "mrr": 0.0}, cost=0.002, cache_read=0, fresh=1000
        ),
        result(
            "q3", 2, metrics={"recall@5": 1.0, "mrr": 0.5}, cost=0.002, cache_read=0, fresh=1000
        ),
        result("q4", 3, error="upstream_timeout: slow"),
    ]
    cand = [
        result(
            "q1", 0, metrics={"recall@5": 1.0, "mrr": 1.0}, cost=0.001, cache_read=3000, fresh=1000
        ),
        result(
            "q2", 1, metrics={"recall@5": 1.0, "mrr": 1.0}, cost=0.001, cache_read=3000, fresh=1000
        ),
        result(
            "q3", 2, metrics={"recall@5": 0.0, "mrr": 0.0}, cost=0.001, cache_read=3000, fresh=1000
        ),
        result("q4", 3, metrics={"recall@5": 1.0, "mrr": 1.0}),  # unpaired: baseline failed
        result("q5", 4, metrics={"recall@5": 1.0, "mrr": 1.0}),  # not in the baseline
    ]
    return base, cand


def test_compare_runs_pairs_questions_and_computes_every_delta() -> None:
    base, cand = _runs()
    cmp = compare_runs(run_info("A"), base, run_info("B"), cand, n_boot=500)
    assert cmp.n_paired == 3
    recall = cmp.delta("recall@5")
    assert recall is not None
    assert (recall.baseline, recall.candidate, recall.delta) == pytest.approx((2 / 3, 2 / 3, 0.0))
    assert recall.verdict == "same" and recall.n == 3
    cost = cmp.delta("cost_per_answer")
    assert cost is not None and cost.delta == pytest.approx(-0.001)
    assert cost.ci_low == pytest.approx(-0.001) and cost.ci_high == pytest.approx(-0.001)
    assert cost.relative == pytest.approx(-0.5) and cost.verdict == "better"  # lower is better
    share = cmp.delta("cache_read_share")  # a ratio of sums, resampled by whole questions
    assert share is not None and share.baseline == 0.0 and share.candidate == pytest.approx(0.75)
    assert share.verdict == "better"


def test_questions_that_changed_most_come_first() -> None:
    base, cand = _runs()
    changes = question_changes(base[:3], cand[:3])
    assert [c.item_id for c in changes] == ["q2", "q3"]  # q1 did not move
    assert changes[0].delta == pytest.approx(1.0)
    assert changes[1].delta == pytest.approx(-0.75)
    assert changes[0].changed["recall@5"] == (0.0, 1.0)
    assert changes[0].baseline_answer == "An answer [1]."


def test_question_changes_compare_like_with_like() -> None:
    """A run scored without ragas has fewer metrics: questions are ranked on the common ones."""
    base = [result("q1", 0, metrics={"recall@5": 1.0, "rouge_l": 0.2})]
    cand = [result("q1", 0, metrics={"recall@5": 1.0})]
    assert question_changes(base, cand) == []  # recall did not move
