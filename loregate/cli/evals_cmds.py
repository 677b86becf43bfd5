"""CLI commands of the `evals` part: `loregate eval run|list|compare|report`.

Exit codes: 0 done (and the gate passed), 1 the gate failed or the run could not proceed,
2 bad input (dataset, --fail-on, unknown run), 130 interrupted (resume with --resume RUN).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from loregate.cli.common import (
    bad_input,
    console,
    err_console,
    fail,
    friendly_errors,
    graph,
    run_async,
)

if TYPE_CHECKING:
    from evals.compare import Comparison
    from evals.dataset import Dataset
    from evals.gate import Rule
    from evals.records import RunInfo
    from evals.run_store import RunStore
    from evals.session import RunRequest

eval_app = typer.Typer(
    help="Evaluate answer quality and cost on a dataset: run, list, compare, report.",
    no_args_is_help=True,
)

DATASET_HELP = "A JSONL suite, or a folder with a known layout (the Claude-docs RAG set)."
DATASET_OPTION = typer.Option(None, "--dataset", "-d", help=DATASET_HELP)
PRINCIPAL_KEYS_OPTION = typer.Option(
    None, help="With --url: YAML/JSON mapping each dataset principal's user id to a key."
)
OUT_OPTION = typer.Option(Path("reports"), help="Folder for the HTML and Markdown report.")
COMPARE_OUT_OPTION = typer.Option(
    None, help="Also write the candidate's report with the comparison into this folder."
)
FAIL_ON_OPTION = typer.Option(
    None,
    "--fail-on",
    help="Regression rules, comma-separated: 'recall@5<-0.02' (dropped more than 0.02 vs the "
    "baseline), 'cost_per_answer>+10%' (rose more than 10%), 'leaks>0' (a bound on this run).",
)


@dataclass(frozen=True)
class _Answering:
    """How a run answers and scores (a resumed run keeps what it started with)."""

    url: str | None
    key: str | None
    principal_keys: Path | None
    route: str | None
    judge: str | None
    no_ragas: bool

    def kept(self) -> dict[str, Any]:
        """What is stored with the run, for ``resumed``."""
        return {name: getattr(self, name) for name in ("route", "judge", "no_ragas", "url")}

    def resumed(self, kept: dict[str, Any]) -> _Answering:
        return replace(
            self,
            route=kept.get("route"),
            judge=kept.get("judge"),
            no_ragas=bool(kept.get("no_ragas", self.no_ragas)),
            url=kept.get("url"),
        )


def _store() -> RunStore:
    return graph().run_store


def _load(path: Path, limit: int | None) -> Dataset:
    from evals.dataset import DatasetError
    from evals.dataset_loader import load_dataset

    with bad_input(DatasetError):
        return load_dataset(path).limited(limit)


def _rules(spec: str | None) -> list[Rule]:
    from evals.gate import FailOnError, parse_fail_on

    if spec is None:
        return []
    with bad_input(FailOnError):
        return parse_fail_on(spec)


def _get_run(store: RunStore, ref: str) -> RunInfo:
    from kernel.errors import InvalidRequest, NotFound

    with bad_input(NotFound, InvalidRequest):
        return store.get(ref)


def _principal_keys(path: Path | None) -> dict[str, str]:
    if path is None:
        return {}
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise fail(f"--principal-keys {path}: cannot read it ({type(exc).__name__})", 2) from None
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in data.items()
    ):
        raise fail(f"--principal-keys {path}: expected a mapping of user id to key", 2)
    return data


def _ingest_corpus(target: Any, dataset: Dataset) -> None:
    from loregate.cli.ingest_cmds import RichProgress, _progress
    from loregate.eval_parts import ingest_corpus

    corpus = dataset.corpus
    console.print(
        f"corpus: {len(corpus.docs)} documents into collection [bold]{corpus.collection}[/]"
    )
    with _progress() as bar:
        report = ingest_corpus(target, corpus, RichProgress(bar))
    counts = ", ".join(f"{k} {v}" for k, v in report.counts().items())
    console.print(f"  {counts}; {report.chunks_written} chunks embedded in {report.seconds:.1f} s")
    if report.failed:
        raise fail(f"{len(report.failed)} corpus documents failed: {report.failed[0].message}")


def _request(
    dataset: Dataset, how: _Answering, *, concurrency: int, label: str, resume: RunInfo | None
) -> RunRequest:
    from evals.answerers import HttpAnswerer
    from evals.session import RunRequest
    from loregate import eval_parts

    g = graph()
    url, route, judge = how.url, how.route, how.judge
    if url:
        answerer: Any = HttpAnswerer(
            url, how.key or "", principal_keys=_principal_keys(how.principal_keys), route=route
        )
        missing = answerer.missing_keys(dataset.items)
        if missing:
            raise fail(
                f"questions ask as {', '.join(missing)} but --principal-keys has no key for them", 2
            )
        if dataset.corpus is not None:
            err_console.print(
                f"[yellow]note:[/] {url} answers from its own index: the corpus of "
                f"{dataset.name!r} must already be ingested there"
            )
        snapshot = eval_parts.url_snapshot(g, url=url, route=route, judge_route=judge)
    else:
        collection = eval_parts.collection_of(g, dataset.corpus)
        if dataset.corpus is not None:
            _ingest_corpus(g, dataset)
        answerer = eval_parts.in_process_answerer(g, collection, route)
        snapshot = eval_parts.in_process_snapshot(
            g, collection=collection, route=route, judge_route=judge, corpus=dataset.corpus
        )
    console.print("loading metrics (ragas, embedder)…" if not how.no_ragas else "loading metrics…")
    scorer = eval_parts.scorer(g, judge_route=judge, offline=not how.no_ragas)
    return RunRequest(
        dataset=dataset,
        answerer=answerer,
        scorer=scorer,
        snapshot=snapshot,
        label=label,
        concurrency=concurrency,
        resume=resume,
        options=how.kept(),
    )


def _write_report(
    store: RunStore, run: RunInfo, cmp: Comparison | None, out: Path, dataset: Dataset | None = None
) -> None:
    from evals.report.render import write_reports
    from evals.session import report_data

    html, md = write_reports(report_data(store, run, comparison=cmp, dataset=dataset), out)
    console.print(f"report: [link=file://{html.resolve()}]{html}[/link] and {md}")


def _compare_and_gate(
    store: RunStore, run: RunInfo, baseline: RunInfo | None, rules: list[Rule]
) -> tuple[Comparison | None, bool]:
    from evals.console import changes_table, comparison_table, gate_table
    from evals.session import compare, gate

    cmp = None
    if baseline is not None:
        cmp = compare(store, baseline, run)
        console.print(comparison_table(cmp))
        if cmp.changes:
            console.print(changes_table(cmp))
    failed = False
    if rules:
        if baseline is None and any(r.needs_baseline for r in rules):
            err_console.print("[yellow]note:[/] no baseline run: rules against a baseline skipped")
        outcomes = gate(rules, run, baseline)
        console.print(gate_table(outcomes))
        failed = any(o.failed for o in outcomes)
    return cmp, failed


@eval_app.command("run")
@friendly_errors
def run_cmd(
    dataset_path: Path | None = DATASET_OPTION,
    baseline: str | None = typer.Option(
        None,
        help="Compare with this run ('latest': the previous finished run of the same dataset).",
    ),
    fail_on: str | None = FAIL_ON_OPTION,
    limit: int | None = typer.Option(None, min=1, help="Only the first N questions."),
    url: str | None = typer.Option(None, help="Ask a running loregate at this URL instead."),
    key: str | None = typer.Option(
        None, envvar="LOREGATE_EVAL_KEY", help="Evaluator API key for --url (or LOREGATE_EVAL_KEY)."
    ),
    principal_keys: Path | None = PRINCIPAL_KEYS_OPTION,
    route: str | None = typer.Option(None, help="Answer on this route (default: the default)."),
    judge: str | None = typer.Option(
        None,
        help="Judge route for faithfulness, relevancy and "
        "factual correctness (through loregate's gateway).",
    ),
    no_ragas: bool = typer.Option(False, "--no-ragas", help="Retrieval and cost metrics only."),
    concurrency: int = typer.Option(4, min=1, max=64, help="Questions in flight at once."),
    label: str = typer.Option("", help="A note stored with the run (e.g. 'prompt v7')."),
    out: Path = OUT_OPTION,
    resume: str | None = typer.Option(None, help="Finish an interrupted run (its id)."),
) -> None:
    """Run a dataset through the real query path, score it, store it, report and gate."""
    import time

    from evals.console import RunProgress, summary_table
    from evals.runner import RunAborted
    from evals.session import resolve_baseline, start_or_resume

    rules = _rules(fail_on)
    store = _store()
    if baseline and baseline != "latest":
        _get_run(store, baseline)  # an unknown baseline fails now, not after the whole run
    resumed = _get_run(store, resume) if resume else None
    if dataset_path is None and resumed is None:
        raise fail("give --dataset PATH (or --resume RUN)", 2)
    path = dataset_path or Path(resumed.dataset_path)  # type: ignore[union-attr]
    dataset = _load(path, resumed.n_items if resumed else limit)
    how = _Answering(url, key, principal_keys, route, judge, no_ragas)
    if resumed is not None:  # a run keeps the settings it started with: same answers, metrics
        how = how.resumed(resumed.options)
        console.print(
            f"resuming {resumed.id}: {resumed.n_done}/{resumed.n_items} done; route "
            f"{how.route or 'default'}, judge {how.judge or 'none'}"
            + (f", against {how.url}" if how.url else "")
        )
    req = _request(dataset, how, concurrency=concurrency, label=label, resume=resumed)
    from evals.dataset import DatasetError

    with bad_input(DatasetError):
        run = start_or_resume(store, req)
    t0 = time.perf_counter()
    progress = RunProgress(console, f"{dataset.name} ({run.id})")
    try:
        outcome = run_async(_execute_and_close(store, req, run, progress))
    except KeyboardInterrupt:
        done = len(store.done_item_ids(run.id))
        err_console.print(
            f"[yellow]interrupted[/] after {done}/{run.n_items} questions; "
            f"resume with: loregate eval run --resume {run.id}"
        )
        raise typer.Exit(130) from None
    except RunAborted as exc:
        raise fail(f"run {run.id} aborted: {exc.message}") from None
    console.print(summary_table(outcome.run, outcome.summary))
    judge_failures = getattr(getattr(req.scorer, "judge", None), "failures", 0)
    if judge_failures:
        err_console.print(
            f"[yellow]note:[/] the judge could not produce {judge_failures} scores (a weak judge "
            "often cannot write the JSON ragas expects); those questions have no judged score"
        )
    console.print(
        f"{outcome.asked} questions asked in {time.perf_counter() - t0:.1f} s"
        + (f", [red]{outcome.failed} failed[/]" if outcome.failed else "")
    )
    base = resolve_baseline(store, baseline, candidate=outcome.run)
    if baseline == "latest" and base is None:
        err_console.print("[yellow]note:[/] no earlier finished run of this dataset: no baseline")
    cmp, failed = _compare_and_gate(store, outcome.run, base, rules)
    _write_report(store, outcome.run, cmp, out, dataset)
    if failed:
        raise fail("regression gate failed (see the table above)")


async def _execute_and_close(store: RunStore, req: RunRequest, run: RunInfo, progress: Any) -> Any:
    """The run, then the graph closed in the same event loop (the gateway's clients live
    in it, and closing flushes the ledger)."""
    from evals.session import execute

    try:
        return await execute(store, req, run, progress)
    finally:
        await graph().aclose()


@eval_app.command("list")
@friendly_errors
def list_cmd(
    dataset: str | None = typer.Option(None, help="Only runs of this dataset name."),
    limit: int = typer.Option(20, min=1, help="How many runs (newest first)."),
) -> None:
    """The stored eval runs, newest first."""
    from evals.console import runs_table

    runs = _store().list_runs(dataset_name=dataset, limit=limit)
    if not runs:
        console.print("no eval runs yet: loregate eval run --dataset PATH")
        return
    console.print(runs_table(runs))


@eval_app.command("compare")
@friendly_errors
def compare_cmd(
    baseline: str = typer.Argument(..., help="Baseline run id (or unique prefix, or 'latest')."),
    candidate: str = typer.Argument(..., help="Candidate run id (or unique prefix)."),
    fail_on: str | None = FAIL_ON_OPTION,
    out: Path | None = COMPARE_OUT_OPTION,
) -> None:
    """Per-metric deltas with bootstrap confidence intervals, and the questions that moved most."""
    rules = _rules(fail_on)
    store = _store()
    base, cand = _get_run(store, baseline), _get_run(store, candidate)
    if base.id == cand.id:
        raise fail("compare needs two different runs", 2)
    cmp, failed = _compare_and_gate(store, cand, base, rules)
    if cmp is not None and cmp.n_paired == 0:
        err_console.print("[yellow]note:[/] the runs share no answered question")
    if out is not None:
        _write_report(store, cand, cmp, out)
    if failed:
        raise fail("regression gate failed (see the table above)")


@eval_app.command("report")
@friendly_errors
def report_cmd(
    run: str = typer.Argument(..., help="Run id (or unique prefix, or 'latest')."),
    baseline: str | None = typer.Option(None, help="Include a comparison with this run."),
    out: Path = OUT_OPTION,
) -> None:
    """Write a run's self-contained HTML report and its Markdown twin."""
    from evals.console import summary_table
    from evals.metrics.operational import summarize

    store = _store()
    info = _get_run(store, run)
    console.print(summary_table(info, info.summary or summarize(store.results(info.id))))
    cmp = None
    if baseline:
        from evals.session import compare

        cmp = compare(store, _get_run(store, baseline), info)
    _write_report(store, info, cmp, out)


# The commands this module adds to `loregate` ----------------------------------------------
app = typer.Typer()

app.add_typer(eval_app, name="eval")
