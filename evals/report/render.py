"""Render a ``ReportData`` as one self-contained HTML file (inline CSS and SVG) or Markdown."""

from __future__ import annotations

import time
from importlib.resources import files
from pathlib import Path
from typing import Any

from evals.metrics.registry import quality_metric_names
from evals.report.model import MetricRow, QuestionView, ReportData
from evals.report.plots import all_plots


def fmt_delta(row: MetricRow) -> str:
    if row.delta is None:
        return "–"
    rel = ""
    if row.baseline:
        rel = f" ({100 * row.delta / abs(row.baseline):+.1f}%)"
    fmt = row.info.fmt
    if "%" in fmt:
        return f"{100 * row.delta:+.1f} pts"
    if fmt.startswith("$"):
        return f"{'+' if row.delta >= 0 else '-'}${abs(row.delta):.5f}{rel}"
    if "ms" in fmt:
        return f"{row.delta:+.0f} ms{rel}"
    return f"{row.delta:+.3f}{rel}"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 90:
        return f"{seconds:.1f} s"
    return f"{int(seconds // 60)} min {int(seconds % 60)} s"


def _snapshot_rows(data: ReportData) -> dict[str, str]:
    snap = data.run.snapshot.model_dump(mode="json")
    extra = snap.pop("extra", {}) or {}
    rows: dict[str, str] = {}
    for k, v in {**snap, **extra}.items():
        if v in (None, "", [], {}):
            continue
        if isinstance(v, dict):
            v = ", ".join(f"{a}={b}" for a, b in v.items())
        elif isinstance(v, list):
            v = ", ".join(str(x) for x in v)
        rows[k] = str(v)
    return rows


def render_html(data: ReportData) -> str:
    import jinja2

    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    source = files("evals.report").joinpath("report.html.j2").read_text(encoding="utf-8")
    template = env.from_string(source)
    ctx: dict[str, Any] = {
        "run": data.run,
        "created": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(data.run.created_at)),
        "duration": _duration(data.duration_s),
        "n_ok": sum(1 for r in data.results if r.ok),
        "n_failed": len(data.failed),
        "headline": data.headline,
        "rows": data.rows,
        "notes": data.notes,
        "plots": all_plots(data.results, data.tiers, data.comparison),
        "comparison": data.comparison,
        "worst": data.worst,
        "failed": data.failed,
        "any_forbidden": any(c.forbidden for q in data.worst for c in q.contexts),
        "quality": set(quality_metric_names()),
        "snapshot": _snapshot_rows(data),
        "fmt_delta": fmt_delta,
    }
    return template.render(**ctx)


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _md_question(q: QuestionView) -> list[str]:
    r = q.result
    assert r.answer is not None
    lines = [
        f"### {r.question}",
        "",
        f"`{r.item_id}` · asked as {r.principal or 'evaluator'} · score {q.score or 0:.2f} · "
        f"tier {r.answer.tier if r.answer.tier is not None else '–'} · "
        f"${r.answer.cost_usd:.5f} · {r.answer.latency_ms:.0f} ms",
        "",
        "Scores: "
        + ", ".join(
            f"{k} {v:.2f}"
            for k, v in r.metrics.items()
            if v is not None and k in quality_metric_names()
        ),
        "",
        "**Answer:** " + _md_escape(r.answer.answer),
        "",
    ]
    if r.reference:
        lines += ["**Reference:** " + _md_escape(r.reference), ""]
    if r.answer.citations:
        lines.append("**Citations:**")
        for c in r.answer.citations:
            section = f" — {c.section}" if c.section else ""
            lines.append(f"- [{c.n}] {c.title}{section} (`{c.doc_id}`)")
        lines.append("")
    else:
        lines += ["**Citations:** none", ""]
    lines.append("**Contexts sent:**")
    for ctx in q.contexts:
        mark = " ✅ gold" if ctx.gold else ""
        mark += " ⛔ forbidden" if ctx.forbidden else ""
        snippet = _md_escape(ctx.text[:240]) + ("…" if len(ctx.text) > 240 else "")
        lines.append(
            f"{ctx.rank}. {ctx.title} — {ctx.section} (score {ctx.score:.3f}){mark}: {snippet}"
        )
    lines.append("")
    return lines


def render_markdown(data: ReportData) -> str:
    run = data.run
    n_ok = sum(1 for r in data.results if r.ok)
    lines = [
        f"# Eval {run.id}: {run.dataset_name} ({run.status})",
        "",
        f"{n_ok} of {run.n_items} questions answered"
        + (f", {len(data.failed)} failed" if data.failed else "")
        + (f"; took {_duration(data.duration_s)}" if data.duration_s is not None else "")
        + (
            f"; compared with `{data.comparison.baseline.id}` on {data.comparison.n_paired} "
            "paired questions"
            if data.comparison
            else ""
        )
        + ".",
        "",
    ]
    lines += [f"> {note}" for note in data.notes] + ([""] if data.notes else [])
    lines.append("## Figures")
    lines.append("")
    if data.comparison:
        lines += [
            "| metric | value | baseline | change | 95% CI | verdict |",
            "|---|---:|---:|---:|---|---|",
        ]
        for row in data.rows:
            ci = (
                f"[{row.ci_low:+.3g}, {row.ci_high:+.3g}]"
                if row.ci_low is not None and row.ci_high is not None
                else "–"
            )
            lines.append(
                f"| {row.info.name} | {row.shown} | {row.info.format(row.baseline)} | "
                f"{fmt_delta(row)} | {ci} | {row.verdict} |"
            )
    else:
        lines += ["| metric | value | meaning |", "|---|---:|---|"]
        for row in data.rows:
            lines.append(f"| {row.info.name} | {row.shown} | {row.info.description} |")
    lines += ["", "## Tier mix", "", "| answered by | answers |", "|---|---:|"]
    lines += [f"| {k} | {v} |" for k, v in data.tiers.items()]
    if data.comparison and data.comparison.changes:
        lines += [
            "",
            "## Questions that changed most",
            "",
            "| question | baseline | candidate | change |",
            "|---|---:|---:|---:|",
        ]
        for ch in data.comparison.changes:
            lines.append(
                f"| {_md_escape(ch.question)} (`{ch.item_id}`) | {ch.baseline_score:.2f} | "
                f"{ch.candidate_score:.2f} | {ch.delta:+.2f} |"
            )
    lines += ["", f"## The {len(data.worst)} weakest answers", ""]
    for q in data.worst:
        lines += _md_question(q)
    if data.failed:
        lines += [f"## Failed questions ({len(data.failed)})", ""]
        lines += [f"- `{r.item_id}` {_md_escape(r.question)}: {r.error}" for r in data.failed]
        lines.append("")
    lines += ["## What produced this run", ""]
    lines += [f"- **{k}**: {v}" for k, v in _snapshot_rows(data).items()]
    return "\n".join(lines) + "\n"


def write_reports(data: ReportData, out_dir: Path, *, stem: str | None = None) -> tuple[Path, Path]:
    """Write ``<stem>.html`` and ``<stem>.md`` into ``out_dir``; return both paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = stem or f"eval-{data.run.id}"
    html_path = out_dir / f"{stem}.html"
    md_path = out_dir / f"{stem}.md"
    html_path.write_text(render_html(data), encoding="utf-8")
    md_path.write_text(render_markdown(data), encoding="utf-8")
    return html_path, md_path
