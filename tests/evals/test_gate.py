"""The --fail-on rules: parsing (with clear errors) and evaluation against a baseline."""

from __future__ import annotations

import pytest

from evals.gate import FailOnError, evaluate, parse_fail_on


def test_parse_relative_percent_and_absolute_rules() -> None:
    rules = parse_fail_on("recall@5<-0.02, cost_per_answer>+10%,leaks>0,latency_p95>=2500")
    assert [(r.metric, r.op, r.value, r.relative_to_baseline, r.percent) for r in rules] == [
        ("recall@5", "<", -0.02, True, False),
        ("cost_per_answer", ">", 10.0, True, True),
        ("leaks", ">", 0.0, False, False),
        ("latency_p95", ">=", 2500.0, False, False),
    ]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "--fail-on is empty"),
        ("recall@5", "rule 'recall@5' is not METRIC OP VALUE"),
        ("recall@5<<0.1", "is not METRIC OP VALUE"),
        ("recall@5<-0.02,", "rule '' is not METRIC OP VALUE"),
        ("recal@5<-0.02", "unknown metric 'recal@5'"),
        ("cost_per_answer>10%", "a percentage is a change against the baseline and needs a sign"),
        ("recall@5<-abc", "is not METRIC OP VALUE"),
    ],
)
def test_malformed_rules_say_what_is_wrong(spec: str, message: str) -> None:
    with pytest.raises(FailOnError) as err:
        parse_fail_on(spec)
    assert message in err.value.message
    assert err.value.code == "invalid_fail_on"


BASE = {"recall@5": 0.80, "cost_per_answer": 0.0020, "leaks": 0.0, "mrr": 0.7}


@pytest.mark.parametrize(
    ("spec", "candidate", "failed"),
    [
        ("recall@5<-0.02", {"recall@5": 0.79}, False),  # dropped 0.01: within tolerance
        ("recall@5<-0.02", {"recall@5": 0.77}, True),  # dropped 0.03
        ("cost_per_answer>+10%", {"cost_per_answer": 0.00215}, False),  # +7.5%
        ("cost_per_answer>+10%", {"cost_per_answer": 0.00230}, True),  # +15%
        ("cost_per_answer<-50%", {"cost_per_answer": 0.0009}, True),  # suspiciously cheap
        ("leaks>0", {"leaks": 0.0}, False),
        ("leaks>0", {"leaks": 2.0}, True),
        ("recall@5<0.85", {"recall@5": 0.84}, True),  # absolute floor
    ],
)
def test_evaluate(spec: str, candidate: dict[str, float], failed: bool) -> None:
    (outcome,) = evaluate(parse_fail_on(spec), candidate, BASE)
    assert outcome.failed is failed, outcome.message


def test_relative_rule_without_baseline_is_an_error_and_missing_values_pass() -> None:
    with pytest.raises(FailOnError, match="compares with a baseline: pass --baseline"):
        evaluate(parse_fail_on("recall@5<-0.02"), {"recall@5": 0.5}, None)
    (outcome,) = evaluate(parse_fail_on("faithfulness<-0.1"), {}, BASE)
    assert not outcome.failed and "n/a" in outcome.message
    (zero,) = evaluate(parse_fail_on("leaks>+10%"), {"leaks": 3.0}, BASE)
    assert not zero.failed and "baseline is 0" in zero.message
    (o,) = evaluate(parse_fail_on("recall@5<-0.02"), {"recall@5": 0.7}, BASE)
    assert o.observed == pytest.approx(-0.1)
    assert o.message == "recall@5: 0.8 -> 0.7 (change -0.1)"
