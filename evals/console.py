"""What a run shows in the terminal: a live progress bar and rich tables."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from evals.compare import Comparison
from evals.gate import RuleOutcome
from evals.metrics.registry import info
from evals.records import QuestionResult, RunInfo

KEY_METRICS = (
    "recall@5",
    "mrr",
    "ndcg@10",
    "context_recall",
    "rouge_l",
    "semantic_similarity",
    "faithfulness",
    "answer_relevancy",
    "factual_correctness",
    "confident",
    "cost_per_answer",
    "cost_total",
    "latency_p50",
    "latency_p95",
    "cache_read_share",
    "tier0_share",
    "escalation_rate",
    "error_rate",
    "leaks",
)


class RunProgress:
    """The runner's progress as a rich bar: questions done, errors, spend and a live recall."""

    def __init__(self, console: Console, label: str) -> None:
        self.console = console
        self.label = label
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[figures]}"),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            console=console,
        )
        self.task: TaskID | None = None
        self.errors = 0
        self.cost = 0.0
        self.recall: list[float] = []
        self.started = time.perf_counter()

    def _figures(self) -> str:
        parts = [f"${self.cost:.4f}"]
        if self.recall:
            parts.append(f"recall@5 {sum(self.recall) / len(self.recall):.2f}")
        if self.errors:
            parts.append(f"[red]{self.errors} failed[/]")
        return " · ".join(parts)

    def start(self, total: int, done: int) -> None:
        self.progress.start()
        self.task = self.progress.add_task(
            self.label, total=total, completed=done, figures=self._figures()
        )

    def advance(self, result: QuestionResult) -> None:
        if result.answer is not None:
            self.cost += result.answer.cost_usd
        if not result.ok:
            self.errors += 1
        r5 = result.metrics.get("recall@5")
        if r5 is not None:
            self.recall.append(r5)
        if self.task is not None:
            self.progress.update(self.task, advance=1, figures=self._figures())

    def stop(self) -> None:
        self.progress.stop()


def _fmt(name: str, value: float | None) -> str:
    return info(name).format(value)


def fmt_change(name: str, value: float | None) -> str:
    """A change in the metric's own unit: points for shares, dollars, milliseconds."""
    if value is None:
        return "–"
    fmt = info(name).fmt
    if "%" in fmt:
        return f"{100 * value:+.1f} pts"
    if fmt.startswith("$"):
        return f"{'-' if value < 0 else '+'}${abs(value):.5f}"
    if "ms" in fmt:
        return f"{value:+.0f} ms"
    return f"{value:+.3f}"


def summary_table(run: RunInfo, summary: Mapping[str, float | None]) -> Table:
    table = Table(title=f"eval run {run.id} · {run.dataset_name}", title_justify="left")
    table.add_column("metric", style="bold")
    table.add_column("value", justify="right")
    table.add_column("meaning", style="dim")
    for name in KEY_METRICS:
        value = summary.get(name)
        if value is not None:
            table.add_row(name, _fmt(name, value), info(name).description)
    return table


def comparison_table(cmp: Comparison, names: Sequence[str] | None = None) -> Table:
    table = Table(
        title=f"{cmp.candidate.id} vs baseline {cmp.baseline.id} ({cmp.n_paired} paired questions)",
        title_justify="left",
    )
    for col, justify in (
        ("metric", "left"),
        ("baseline", "right"),
        ("candidate", "right"),
        ("change", "right"),
        ("95% CI", "right"),
        ("", "left"),
    ):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    wanted = set(names or KEY_METRICS)
    colours = {"better": "green", "worse": "red", "same": "dim", "n/a": "dim"}
    for d in cmp.deltas:
        if d.name not in wanted or d.delta is None:
            continue
        ci = (
            f"[{fmt_change(d.name, d.ci_low)}, {fmt_change(d.name, d.ci_high)}]"
            if d.ci_low is not None and d.ci_high is not None
            else "–"
        )
        rel = f" ({100 * d.relative:+.1f}%)" if d.relative and "%" not in info(d.name).fmt else ""
        colour = colours[d.verdict]
        table.add_row(
            d.name,
            _fmt(d.name, d.baseline),
            _fmt(d.name, d.candidate),
            f"{fmt_change(d.name, d.delta)}{rel}",
            ci,
            f"[{colour}]{d.verdict}[/]",
        )
    return table


def changes_table(cmp: Comparison) -> Table:
    table = Table(title="questions that changed most", title_justify="left")
    table.add_column("id", style="dim")
    table.add_column("question")
    table.add_column("baseline", justify="right")
    table.add_column("candidate", justify="right")
    table.add_column("change", justify="right")
    for ch in cmp.changes:
        colour = "green" if ch.delta > 0 else "red"
        q = ch.question if len(ch.question) <= 70 else ch.question[:69] + "…"
        table.add_row(
            ch.item_id,
            q,
            f"{ch.baseline_score:.2f}",
            f"{ch.candidate_score:.2f}",
            f"[{colour}]{ch.delta:+.2f}[/]",
        )
    return table


def gate_table(outcomes: Sequence[RuleOutcome]) -> Table:
    table = Table(title="regression gate", title_justify="left")
    table.add_column("rule")
    table.add_column("observed")
    table.add_column("result")
    for o in outcomes:
        verdict = "[bold red]FAIL[/]" if o.failed else "[green]pass[/]"
        table.add_row(o.rule.text, o.message, verdict)
    return table


def runs_table(runs: Sequence[RunInfo]) -> Table:
    table = Table(title="eval runs", title_justify="left")
    for col in (
        "run",
        "dataset",
        "status",
        "done",
        "recall@5",
        "$/answer",
        "p50 ms",
        "prompt",
        "label",
        "created (UTC)",
    ):
        table.add_column(col)
    for r in runs:
        s = r.summary
        table.add_row(
            r.id,
            r.dataset_name,
            r.status,
            f"{r.n_done}/{r.n_items}",
            _fmt("recall@5", s.get("recall@5")),
            _fmt("cost_per_answer", s.get("cost_per_answer")),
            _fmt("latency_p50", s.get("latency_p50")).replace(" ms", ""),
            r.snapshot.prompt_version or "–",
            r.label,
            time.strftime("%Y-%m-%d %H:%M", time.gmtime(r.created_at)),
        )
    return table
