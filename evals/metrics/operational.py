"""Per-answer operational figures (cost, latency, tier, cache, leaks) and the run summary."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from evals.dataset import EvalItem
from evals.metrics.registry import QUESTION_METRICS, RUN_METRICS
from evals.records import QuestionResult
from retrieval.answer_types import Answer


def cache_read_share(answer: Answer) -> float | None:
    t = answer.tokens
    total = t.input + t.cache_read + t.cache_write
    return t.cache_read / total if total else None


def leaks(item: EvalItem, answer: Answer) -> float:
    """Passages or citations from documents this asker must not see."""
    forbidden = set(item.forbidden_doc_ids)
    if not forbidden:
        return 0.0
    n = sum(1 for p in answer.passages if p.doc_id in forbidden)
    n += sum(1 for c in answer.citations if c.doc_id in forbidden)
    return float(n)


def operational(item: EvalItem, answer: Answer) -> dict[str, float | None]:
    return {
        "cost_usd": answer.cost_usd,
        "latency_ms": answer.latency_ms,
        "tier": float(answer.tier) if answer.tier is not None else None,
        "escalations": float(sum(1 for s in answer.escalations if s.outcome == "escalated")),
        "cache_read_share": cache_read_share(answer),
        "confident": 1.0 if answer.confident else 0.0,
        "cited": 1.0 if answer.citations else 0.0,
        "leaks": leaks(item, answer),
    }


def _mean(values: Sequence[float | None]) -> float | None:
    xs = [v for v in values if v is not None and not math.isnan(v)]
    return float(np.mean(xs)) if xs else None


def _share(flags: Sequence[bool], n: int) -> float | None:
    return sum(flags) / n if n else None


def summarize(results: Sequence[QuestionResult]) -> dict[str, float | None]:
    """The run's figures. Quality means skip questions where a metric does not apply."""
    ok = [r for r in results if r.ok and r.answer is not None]
    answers = [r.answer for r in ok if r.answer is not None]
    n = len(ok)
    out: dict[str, float | None] = {
        "n": float(n),
        "error_rate": (len(results) - n) / len(results) if results else None,
    }
    for m in QUESTION_METRICS:
        if m.group in ("retrieval", "answer", "judged"):
            out[m.name] = _mean([r.metrics.get(m.name) for r in ok])
    costs = [a.cost_usd for a in answers]
    out["cost_per_answer"] = float(np.mean(costs)) if costs else None
    out["cost_total"] = float(np.sum(costs)) if costs else 0.0
    out["cost_per_1k"] = 1000 * out["cost_per_answer"] if costs else None  # type: ignore[operator]
    cache_read = sum(a.tokens.cache_read for a in answers)
    all_input = sum(a.tokens.input + a.tokens.cache_read + a.tokens.cache_write for a in answers)
    out["cache_read_share"] = cache_read / all_input if all_input else None
    out["input_tokens"] = _mean([float(a.tokens.input) for a in answers])
    out["output_tokens"] = _mean([float(a.tokens.output) for a in answers])
    lat = [a.latency_ms for a in answers]
    for p in (50, 95, 99):
        out[f"latency_p{p}"] = float(np.percentile(lat, p)) if lat else None
    # Tiers are counted from 0 (the route's cheapest), as the gateway numbers them; a degraded
    # answer counts for no tier.
    confident = [a for a in answers if a.confident]
    out["tier0_share"] = _share([a.tier == 0 for a in confident], n)
    out["tier1_share"] = _share([a.tier == 1 for a in confident], n)
    out["tier2_share"] = _share([a.tier is not None and a.tier >= 2 for a in confident], n)
    out["escalation_rate"] = _share(
        [any(s.outcome == "escalated" for s in a.escalations) for a in answers], n
    )
    escalated = [any(s.outcome == "escalated" for s in a.escalations) for a in answers]
    out["answered_share"] = _share(
        [a.confident and not e for a, e in zip(answers, escalated, strict=True)], n
    )
    out["escalated_share"] = _share(
        [a.confident and e for a, e in zip(answers, escalated, strict=True)], n
    )
    out["degraded_share"] = _share([a.degraded == "no_confident_answer" for a in answers], n)
    out["unreachable_share"] = _share([a.degraded == "no_model_reachable" for a in answers], n)
    gold_flags = [r.metrics.get("cites_gold") for r in ok if r.answer and r.answer.confident]
    judged = [g for g in gold_flags if g is not None]
    out["confident_precision"] = sum(judged) / len(judged) if judged else None
    out["cached_share"] = _share([a.cached for a in answers], n)
    out["leaks"] = float(sum(r.metrics.get("leaks") or 0.0 for r in ok))
    known = {m.name for m in RUN_METRICS}
    return {k: v for k, v in out.items() if k in known}


def tier_mix(results: Sequence[QuestionResult]) -> dict[str, int]:
    """How many answers each tier gave ("degraded" when none was confident, "error" failed)."""
    mix: dict[str, int] = {}
    for r in results:
        if not r.ok or r.answer is None:
            key = "error"
        elif not r.answer.confident:
            key = "degraded"
        elif r.answer.tier is None:
            key = "no tier"
        else:
            key = f"tier {r.answer.tier}" + (f" ({r.answer.model})" if r.answer.model else "")
        mix[key] = mix.get(key, 0) + 1
    return dict(sorted(mix.items(), key=lambda kv: (not kv[0].startswith("tier"), kv[0])))
