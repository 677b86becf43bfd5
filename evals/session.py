"""One eval session end to end, independent of how its parts were built (CLI, notebook, tests):
create or resume a run, answer and score every question, compare with a baseline, gate, report.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evals.answerers import Answerer
from evals.compare import Comparison, compare_runs
from evals.dataset import Dataset, DatasetError
from evals.dataset_loader import load_dataset
from evals.gate import Rule, RuleOutcome, evaluate
from evals.records import RunInfo, Snapshot
from evals.report.model import ReportData, build_report
from evals.run_store import RunNotFound, RunStore
from evals.runner import EvalRunner, Progress, RunOutcome, Scorer


@dataclass
class RunRequest:
    dataset: Dataset
    answerer: Answerer
    scorer: Scorer
    snapshot: Snapshot
    label: str = ""
    concurrency: int = 4
    resume: RunInfo | None = None
    options: dict[str, Any] = field(default_factory=dict)  # stored with the run (resume)


def start_or_resume(store: RunStore, req: RunRequest) -> RunInfo:
    """The run to fill: the one being resumed (checked against the dataset), or a new one."""
    ds = req.dataset
    if req.resume is not None:
        if req.resume.status == "finished":
            raise DatasetError(f"run {req.resume.id} is already finished: nothing to resume")
        if req.resume.dataset_sha256 != ds.sha256:
            raise DatasetError(
                f"run {req.resume.id} was made on another version of {ds.name!r} (its questions "
                "changed since): start a new run instead of resuming"
            )
        store.finish(req.resume.id, status="running")
        return store.get(req.resume.id)
    options = {**req.options, "concurrency": req.concurrency, "limit": len(ds.items)}
    return store.create_run(
        dataset_name=ds.name,
        dataset_path=ds.path,
        dataset_sha256=ds.sha256,
        n_items=len(ds.items),
        snapshot=req.snapshot,
        options=options,
        label=req.label,
    )


async def execute(
    store: RunStore, req: RunRequest, run: RunInfo, progress: Progress | None = None
) -> RunOutcome:
    runner = EvalRunner(
        store, req.answerer, req.scorer, concurrency=req.concurrency, progress=progress
    )
    try:
        return await runner.run(run, req.dataset.items)
    finally:
        await req.answerer.aclose()


def run_sync(
    store: RunStore,
    req: RunRequest,
    progress: Progress | None = None,
    *,
    close: Callable[[], Awaitable[None]] | None = None,
) -> RunOutcome:
    """Create (or resume) the run and fill it; ``close`` runs in the same event loop after it
    (a container's ``aclose``: the gateway's HTTP clients belong to that loop)."""
    run = start_or_resume(store, req)

    async def go() -> RunOutcome:
        try:
            return await execute(store, req, run, progress)
        finally:
            if close is not None:
                await close()

    return asyncio.run(go())


def resolve_baseline(store: RunStore, ref: str | None, *, candidate: RunInfo) -> RunInfo | None:
    """``latest`` is the newest finished run of the same dataset before ``candidate``; None
    when there is none yet. Any other reference must name an existing run."""
    if ref is None:
        return None
    if ref == "latest":
        for r in store.list_runs(dataset_name=candidate.dataset_name, limit=200):
            if (
                r.status == "finished"
                and r.id != candidate.id
                and (r.created_at <= candidate.created_at)
            ):
                return r
        return None
    found = store.get(ref)
    if found.id == candidate.id:
        raise RunNotFound(f"--baseline {ref!r} is the run itself")
    return found


def compare(
    store: RunStore, baseline: RunInfo, candidate: RunInfo, *, n_boot: int = 2000
) -> Comparison:
    return compare_runs(
        baseline,
        store.results(baseline.id),
        candidate,
        store.results(candidate.id),
        n_boot=n_boot,
    )


def gate(rules: list[Rule], candidate: RunInfo, baseline: RunInfo | None) -> list[RuleOutcome]:
    """Absolute rules always; rules against the baseline only when there is one."""
    if baseline is None:
        rules = [r for r in rules if not r.needs_baseline]
    return evaluate(rules, candidate.summary, baseline.summary if baseline else None)


def report_data(
    store: RunStore,
    run: RunInfo,
    *,
    comparison: Comparison | None = None,
    dataset: Dataset | None = None,
) -> ReportData:
    """The report of ``run``; gold and forbidden ids come from the dataset when it loads."""
    if dataset is None:
        try:
            dataset = load_dataset(Path(run.dataset_path))
        except DatasetError:
            dataset = None  # moved or changed since: the report goes without gold marks
    gold = {i.id: list(i.gold_ids) for i in dataset.items} if dataset else {}
    forbidden = {i.id: list(i.forbidden_doc_ids) for i in dataset.items} if dataset else {}
    return build_report(
        run, store.results(run.id), comparison=comparison, gold=gold, forbidden=forbidden
    )
