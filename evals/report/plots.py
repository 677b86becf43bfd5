"""The report's plots, drawn with matplotlib (Agg) and returned as inline SVG text."""

from __future__ import annotations

import io
import math
import re
from collections.abc import Sequence
from typing import Any

from evals.compare import Comparison
from evals.metrics.registry import quality_metric_names
from evals.records import QuestionResult

INK = "#1f2933"
MUTED = "#7b8794"
ACCENT = "#2f6fde"
GOOD = "#2e9d5b"
BAD = "#d64545"
TIER_COLOURS = ("#2f6fde", "#8e5ee8", "#e0813a", "#d64545", "#7b8794")


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update(
        {
            "svg.fonttype": "none",  # text stays text: smaller, searchable
            "font.family": "sans-serif",
            "font.size": 9,
            "axes.edgecolor": MUTED,
            "axes.labelcolor": INK,
            "xtick.color": INK,
            "ytick.color": INK,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "svg.hashsalt": "loregate",  # deterministic ids
        }
    )
    return plt


def _svg(fig: Any) -> str:
    plt = _plt()
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    text = buf.getvalue()
    text = text[text.find("<svg") :]
    return re.sub(r"\s+$", "", text)


def _tier_colour(tier: int | None) -> str:
    """Tier 0 (the cheapest) blue, then violet, orange, red; grey for no tier."""
    return TIER_COLOURS[4] if tier is None else TIER_COLOURS[min(tier, 3)]


def _values(results: Sequence[QuestionResult], name: str) -> list[float]:
    out = []
    for r in results:
        v = r.metrics.get(name) if r.ok else None
        if v is not None and not math.isnan(v):
            out.append(float(v))
    return out


def metric_distributions(results: Sequence[QuestionResult]) -> str | None:
    """One box (with every question as a dot) per quality metric that has values."""
    names = [n for n in quality_metric_names() if _values(results, n)]
    if not names:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7.5, 0.42 * len(names) + 0.9))
    data = [_values(results, n) for n in names]
    ax.boxplot(
        data,
        orientation="horizontal",
        widths=0.55,
        showfliers=False,
        patch_artist=True,
        boxprops={"facecolor": "#dbe7fb", "edgecolor": ACCENT},
        medianprops={"color": INK},
        whiskerprops={"color": MUTED},
        capprops={"color": MUTED},
    )
    for i, vals in enumerate(data, start=1):
        jitter = [i + ((k * 7919) % 101 - 50) / 170 for k in range(len(vals))]
        ax.scatter(vals, jitter, s=7, color=ACCENT, alpha=0.45, linewidths=0)
        mean = sum(vals) / len(vals)
        ax.text(
            1.03,
            i,
            f"{mean:.2f}",
            va="center",
            fontsize=8,
            color=INK,
            transform=ax.get_yaxis_transform(),
        )
    ax.set_yticks(range(1, len(names) + 1), names)
    ax.set_xlim(-0.02, 1.02)
    ax.invert_yaxis()
    ax.set_xlabel("score per question (dots), mean at right")
    return _svg(fig)


def cost_per_question(results: Sequence[QuestionResult]) -> str | None:
    rows = [(r.answer.cost_usd, r.answer.tier) for r in results if r.ok and r.answer is not None]
    if not rows:
        return None
    rows.sort(key=lambda x: x[0], reverse=True)
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7.5, 2.6))
    colours = [_tier_colour(t) for _, t in rows]
    ax.bar(range(len(rows)), [c * 1000 for c, _ in rows], color=colours, width=0.85)
    mean = sum(c for c, _ in rows) / len(rows)
    ax.axhline(mean * 1000, color=INK, linewidth=0.8, linestyle="--")
    ax.text(
        len(rows) - 0.5,
        mean * 1000,
        f" mean ${mean * 1000:.3f} / 1k",
        va="bottom",
        ha="right",
        fontsize=8,
    )
    from matplotlib.patches import Patch

    tiers = sorted({t for _, t in rows}, key=lambda t: 99 if t is None else t)
    ax.legend(
        handles=[
            Patch(color=_tier_colour(t), label="no tier" if t is None else f"tier {t}")
            for t in tiers
        ],
        frameon=False,
        loc="upper right",
        bbox_to_anchor=(1.0, 0.88),
        fontsize=8,
    )
    ax.set_xticks([])
    ax.set_xlabel("questions, most expensive first (colour = tier that answered)")
    ax.set_ylabel("$ per 1,000 answers")
    return _svg(fig)


def tier_mix(tiers: dict[str, int]) -> str | None:
    if not tiers:
        return None
    plt = _plt()
    labels = list(tiers)
    counts = [tiers[k] for k in labels]
    fig, ax = plt.subplots(figsize=(7.5, 0.36 * len(labels) + 0.7))
    colours = []
    for k in labels:
        if k.startswith("tier "):
            num = k.split()[1]
            colours.append(_tier_colour(int(num) if num.isdigit() else None))
        else:
            colours.append(BAD if k in ("error", "degraded") else MUTED)
    ax.barh(labels, counts, color=colours)
    total = sum(counts)
    for i, c in enumerate(counts):
        ax.text(c, i, f"  {c} ({c / total:.0%})", va="center", fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("answers")
    ax.set_xlim(0, max(counts) * 1.25)
    return _svg(fig)


def latency(results: Sequence[QuestionResult]) -> str | None:
    lat = [r.answer.latency_ms for r in results if r.ok and r.answer is not None]
    if not lat:
        return None
    import numpy as np

    plt = _plt()
    fig, ax = plt.subplots(figsize=(7.5, 2.4))
    ax.hist(lat, bins=min(30, max(5, len(lat) // 3)), color="#dbe7fb", edgecolor=ACCENT)
    top = ax.get_ylim()[1]
    for row, (p, style) in enumerate(((50, "-"), (95, "--"), (99, ":"))):
        v = float(np.percentile(lat, p))
        ax.axvline(v, color=INK, linestyle=style, linewidth=0.9)
        ax.text(
            v,
            top * (0.97 - 0.12 * row),
            f" p{p} {v:.0f} ms",
            fontsize=8,
            va="top",
            bbox={"facecolor": "white", "edgecolor": "none", "pad": 1, "alpha": 0.8},
        )
    ax.set_xlabel("latency per answer (ms)")
    ax.set_ylabel("answers")
    return _svg(fig)


def comparison_forest(comparison: Comparison) -> str | None:
    """Deltas of the quality metrics with their 95% intervals."""
    rows = [
        d
        for d in comparison.deltas
        if d.name in quality_metric_names() and d.delta is not None and d.ci_low is not None
    ]
    if not rows:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7.5, 0.36 * len(rows) + 0.9))
    for i, d in enumerate(rows):
        colour = GOOD if d.verdict == "better" else BAD if d.verdict == "worse" else MUTED
        assert d.ci_low is not None and d.ci_high is not None and d.delta is not None
        ax.plot([d.ci_low, d.ci_high], [i, i], color=colour, linewidth=2)
        ax.plot([d.delta], [i], "o", color=colour, markersize=5)
    ax.axvline(0, color=INK, linewidth=0.8)
    ax.set_yticks(range(len(rows)), [d.name for d in rows])
    ax.invert_yaxis()
    ax.set_xlabel("candidate − baseline (95% bootstrap interval)")
    return _svg(fig)


def all_plots(
    results: Sequence[QuestionResult], tiers: dict[str, int], comparison: Comparison | None
) -> dict[str, tuple[str, str]]:
    """name -> (title, svg) for every plot that has data."""
    plots: dict[str, tuple[str, str | None]] = {
        "metric-distributions": ("Quality metrics per question", metric_distributions(results)),
        "cost-per-question": ("Cost per question", cost_per_question(results)),
        "tier-mix": ("Which tier answered", tier_mix(tiers)),
        "latency": ("Latency", latency(results)),
    }
    if comparison is not None:
        plots["comparison"] = ("Change against the baseline", comparison_forest(comparison))
    return {k: (t, s) for k, (t, s) in plots.items() if s}
