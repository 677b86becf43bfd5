"""The regression gate: ``--fail-on "recall@5<-0.02,cost_per_answer>+10%,leaks>0"``.

Each rule is ``METRIC OP VALUE`` with OP one of ``<``, ``<=``, ``>``, ``>=``:

- a signed VALUE (``-0.02``, ``+10%``) is a change against the baseline: absolute, or relative
  to the baseline's value with ``%``. ``recall@5<-0.02`` fails when recall@5 dropped by more
  than 0.02; ``cost_per_answer>+10%`` fails when the cost per answer rose by more than 10%.
  These rules need a baseline.
- an unsigned VALUE is a bound on the run's own value: ``leaks>0`` fails on any leak,
  ``recall@5<0.8`` fails when recall@5 is under 0.8.

Metric names are the run metrics (``loregate eval report`` lists them).
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from evals.metrics.registry import known_run_metrics
from kernel.errors import InvalidRequest

_OPS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le,
    ">=": operator.ge,
    "<": operator.lt,
    ">": operator.gt,
}
_RULE = re.compile(
    r"^\s*(?P<metric>[A-Za-z_][\w@.]*)\s*(?P<op><=|>=|<|>)\s*"
    r"(?P<sign>[+-])?(?P<num>\d+(?:\.\d+)?|\.\d+)(?P<pct>%)?\s*$"
)


class FailOnError(InvalidRequest):
    code = "invalid_fail_on"


@dataclass(frozen=True)
class Rule:
    text: str
    metric: str
    op: str
    value: float
    relative_to_baseline: bool  # a signed value: compare the change
    percent: bool

    @property
    def needs_baseline(self) -> bool:
        return self.relative_to_baseline


@dataclass(frozen=True)
class RuleOutcome:
    rule: Rule
    observed: float | None  # the change (absolute or relative) or the run's value
    failed: bool
    message: str


def parse_fail_on(spec: str) -> list[Rule]:
    """Parse the rule list; ``FailOnError`` names the bad rule and what is expected."""
    rules = []
    known = set(known_run_metrics())
    parts = [p for p in spec.split(",")]
    if not spec.strip():
        raise FailOnError("--fail-on is empty; expected rules like 'recall@5<-0.02'")
    for part in parts:
        m = _RULE.match(part)
        if not m:
            raise FailOnError(
                f"--fail-on rule {part.strip()!r} is not METRIC OP VALUE, e.g. "
                "'recall@5<-0.02' (a drop vs the baseline), 'cost_per_answer>+10%' or "
                "'leaks>0' (a bound)"
            )
        metric = m["metric"]
        if metric not in known:
            raise FailOnError(
                f"--fail-on rule {part.strip()!r}: unknown metric {metric!r} "
                f"(known: {', '.join(sorted(known))})"
            )
        num = float(m["num"])
        if m["pct"] and not m["sign"]:
            raise FailOnError(
                f"--fail-on rule {part.strip()!r}: a percentage is a change against the "
                "baseline and needs a sign (+10% or -5%)"
            )
        rules.append(
            Rule(
                text=part.strip(),
                metric=metric,
                op=m["op"],
                value=-num if m["sign"] == "-" else num,
                relative_to_baseline=m["sign"] is not None,
                percent=m["pct"] is not None,
            )
        )
    return rules


def evaluate(
    rules: list[Rule],
    candidate: Mapping[str, float | None],
    baseline: Mapping[str, float | None] | None,
) -> list[RuleOutcome]:
    out = []
    for rule in rules:
        cand = candidate.get(rule.metric)
        if rule.relative_to_baseline:
            if baseline is None:
                raise FailOnError(
                    f"--fail-on rule {rule.text!r} compares with a baseline: pass --baseline "
                    "RUN (or 'latest')"
                )
            base = baseline.get(rule.metric)
            if cand is None or base is None:
                out.append(RuleOutcome(rule, None, False, f"{rule.text}: n/a (no value)"))
                continue
            change = cand - base
            if rule.percent:
                if base == 0:
                    out.append(RuleOutcome(rule, None, False, f"{rule.text}: n/a (baseline is 0)"))
                    continue
                change = 100.0 * change / abs(base)
            failed = _OPS[rule.op](change, rule.value)
            unit = "%" if rule.percent else ""
            msg = f"{rule.metric}: {base:.4g} -> {cand:.4g} (change {change:+.4g}{unit})"
            out.append(RuleOutcome(rule, change, failed, msg))
        else:
            if cand is None:
                out.append(RuleOutcome(rule, None, False, f"{rule.text}: n/a (no value)"))
                continue
            failed = _OPS[rule.op](cand, rule.value)
            out.append(RuleOutcome(rule, cand, failed, f"{rule.metric} = {cand:.4g}"))
    return out
