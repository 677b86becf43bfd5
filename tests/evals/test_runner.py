"""The runner: every question asked and stored as it finishes, bounded concurrency, failures
recorded, interruption and resume without losing or repeating work."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from evals.answerers import InProcessAnswerer
from evals.dataset import Dataset, DatasetError, EvalItem
from evals.records import QuestionResult, Snapshot
from evals.run_store import RunNotFound, RunStore
from evals.runner import EvalRunner, RunAborted
from evals.session import RunRequest, resolve_baseline, start_or_resume
from kernel.errors import InvalidRequest
from retrieval.answer_types import Answer
from testkit.answer_service import StubAnswerService


class CountingScorer:
    """No ranx, no ragas: one metric that says whether a gold doc was sent."""

    async def score(self, item: EvalItem, answer: Answer) -> dict[str, float | None]:
        sent = {p.doc_id for p in answer.passages}
        return {
            "recall@5": 1.0 if set(item.gold_ids) & sent else 0.0,
            "leaks": 0.0,
            "escalations": 0.0,
            "confident": float(answer.confident),
        }


class Recorder:
    def __init__(self) -> None:
        self.started: tuple[int, int] | None = None
        self.seen: list[str] = []
        self.stopped = False

    def start(self, total: int, done: int) -> None:
        self.started = (total, done)

    def advance(self, result: QuestionResult) -> None:
        self.seen.append(result.item_id)

    def stop(self) -> None:
        self.stopped = True


def new_run(store: RunStore, ds: Dataset) -> Any:
    return store.create_run(
        dataset_name=ds.name,
        dataset_path=ds.path,
        dataset_sha256=ds.sha256,
        n_items=len(ds.items),
        snapshot=Snapshot(mode="in-process"),
    )


def test_every_question_is_answered_scored_and_stored(store: RunStore, dataset: Dataset) -> None:
    svc = StubAnswerService(dataset.items, quality=1.0, fail_ids=["q3"])
    rec = Recorder()
    runner = EvalRunner(
        store,
        InProcessAnswerer(svc, route="economy"),
        CountingScorer(),
        concurrency=2,
        progress=rec,
    )
    run = new_run(store, dataset)
    outcome = asyncio.run(runner.run(run, dataset.items))
    assert rec.started == (6, 0) and sorted(rec.seen) == [f"q{i}" for i in range(6)]
    assert rec.stopped
    assert outcome.asked == 6 and outcome.failed == 1
    assert outcome.errors == ["q3: upstream_connection: stub: upstream unreachable"]
    results = store.results(run.id)
    assert [r.item_id for r in results] == [f"q{i}" for i in range(6)]  # by position
    ok = [r for r in results if r.ok]
    assert len(ok) == 5 and all(r.metrics["recall@5"] == 1.0 for r in ok)
    assert ok[0].answer is not None and ok[0].answer.passages[0].doc_id == "doc-0"
    failed = results[3]
    assert failed.answer is None and failed.error and failed.error.startswith("upstream_conn")
    info = store.get(run.id)
    assert info.status == "finished" and info.n_done == 5 and info.finished_at is not None
    assert info.summary["n"] == 5 and info.summary["error_rate"] == pytest.approx(1 / 6)
    assert info.summary["recall@5"] == 1.0
    assert info.snapshot.prompt_version == "answer-v1"  # filled from the answers
    assert "claude-haiku-4-5" in info.snapshot.model_ids


def test_concurrency_is_bounded(store: RunStore, dataset: Dataset) -> None:
    in_flight = 0
    peak = 0

    class Slow(StubAnswerService):
        async def ask(self, question: str, **kw: Any) -> Answer:
            nonlocal in_flight, peak
            in_flight += 1
            peak = max(peak, in_flight)
            await asyncio.sleep(0.01)
            in_flight -= 1
            return await super().ask(question, **kw)

    runner = EvalRunner(
        store, InProcessAnswerer(Slow(dataset.items)), CountingScorer(), concurrency=3
    )
    asyncio.run(runner.run(new_run(store, dataset), dataset.items))
    assert peak == 3


def test_a_run_whose_first_questions_all_fail_stops_early(
    store: RunStore, dataset: Dataset
) -> None:
    svc = StubAnswerService(dataset.items, fail_ids=[i.id for i in dataset.items])
    runner = EvalRunner(
        store, InProcessAnswerer(svc), CountingScorer(), concurrency=1, abort_after=3
    )
    run = new_run(store, dataset)
    with pytest.raises(RunAborted, match="first 3 questions all failed; first error: q0: "):
        asyncio.run(runner.run(run, dataset.items))
    assert len(svc.calls) == 3
    assert store.get(run.id).status == "failed"


def test_interrupted_run_keeps_its_results_and_resume_asks_only_the_rest(
    store: RunStore, dataset: Dataset
) -> None:
    gate = asyncio.Event()

    class Blocking(StubAnswerService):
        async def ask(self, question: str, **kw: Any) -> Answer:
            if self.by_question[question].id in ("q4", "q5"):
                await gate.wait()  # never set: these are in flight when the run is stopped
            return await super().ask(question, **kw)

    first = Blocking(dataset.items, quality=1.0)
    run = new_run(store, dataset)

    class StopAtFour(Recorder):
        def __init__(self) -> None:
            super().__init__()
            self.four = asyncio.Event()

        def advance(self, result: QuestionResult) -> None:
            super().advance(result)
            if len(self.seen) == 4:  # q0..q3 are stored before advance() is called
                self.four.set()

    async def interrupt() -> None:
        rec = StopAtFour()
        runner = EvalRunner(
            store, InProcessAnswerer(first), CountingScorer(), concurrency=6, progress=rec
        )
        task = asyncio.create_task(runner.run(run, dataset.items))
        await rec.four.wait()
        task.cancel()  # what Ctrl-C does to asyncio.run's main task
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(interrupt())
    info = store.get(run.id)
    assert info.status == "interrupted" and info.n_done == 4
    assert store.done_item_ids(run.id) == {"q0", "q1", "q2", "q3"}

    # Resume: only q4 and q5 are asked; nothing is lost or duplicated.
    second = StubAnswerService(dataset.items, quality=1.0)
    req = RunRequest(
        dataset=dataset,
        answerer=InProcessAnswerer(second),
        scorer=CountingScorer(),
        snapshot=info.snapshot,
        resume=info,
    )
    resumed = start_or_resume(store, req)
    assert resumed.id == run.id and resumed.status == "running"
    rec = Recorder()
    outcome = asyncio.run(
        EvalRunner(store, req.answerer, req.scorer, progress=rec).run(resumed, dataset.items)
    )
    assert sorted(second.calls) == sorted(i.question for i in dataset.items[4:])
    assert rec.started == (6, 4)
    results = store.results(run.id)
    assert [r.item_id for r in results] == [f"q{i}" for i in range(6)]
    assert outcome.run.status == "finished" and outcome.summary["n"] == 6


def test_resume_retries_failed_questions_and_refuses_a_changed_dataset(
    store: RunStore, dataset: Dataset
) -> None:
    run = new_run(store, dataset)
    flaky = StubAnswerService(dataset.items, fail_ids=["q2"])
    asyncio.run(
        EvalRunner(store, InProcessAnswerer(flaky), CountingScorer()).run(run, dataset.items)
    )
    store.finish(run.id, status="interrupted")  # as if stopped before the end
    healthy = StubAnswerService(dataset.items)
    req = RunRequest(
        dataset=dataset,
        answerer=InProcessAnswerer(healthy),
        scorer=CountingScorer(),
        snapshot=Snapshot(mode="in-process"),
        resume=store.get(run.id),
    )
    asyncio.run(
        EvalRunner(store, req.answerer, req.scorer).run(start_or_resume(store, req), dataset.items)
    )
    assert healthy.calls == [dataset.items[2].question]
    assert all(r.ok for r in store.results(run.id))

    changed = dataset.model_copy(update={"sha256": "f" * 64})
    with pytest.raises(DatasetError, match="already finished"):
        start_or_resume(
            store,
            RunRequest(
                dataset=changed,
                answerer=req.answerer,
                scorer=req.scorer,
                snapshot=req.snapshot,
                resume=store.get(run.id),
            ),
        )
    store.finish(run.id, status="interrupted")
    with pytest.raises(DatasetError, match="another version"):
        start_or_resume(
            store,
            RunRequest(
                dataset=changed,
                answerer=req.answerer,
                scorer=req.scorer,
                snapshot=req.snapshot,
                resume=store.get(run.id),
            ),
        )


def test_run_references_latest_prefix_and_ambiguity(store: RunStore, dataset: Dataset) -> None:
    a = new_run(store, dataset)
    store.finish(a.id, status="finished", summary={"recall@5": 0.5})
    b = new_run(store, dataset)
    store.finish(b.id, status="finished", summary={"recall@5": 0.6})
    c = new_run(store, dataset)  # still running
    assert store.get("latest").id == b.id
    assert store.get(a.id).summary == {"recall@5": 0.5}
    assert store.get(a.id[:-2]).id == a.id  # a unique prefix (the seconds differ)
    with pytest.raises(RunNotFound, match="no eval run 'nope'"):
        store.get("nope")
    with pytest.raises(InvalidRequest, match="ambiguous"):
        store.get(a.id[:8])  # same day: every run shares the prefix
    with pytest.raises(RunNotFound, match="of dataset 'other'"):
        store.get("latest", dataset_name="other")
    assert [r.id for r in store.list_runs()] == [c.id, b.id, a.id]
    assert resolve_baseline(store, "latest", candidate=store.get(c.id)).id == b.id  # type: ignore[union-attr]
    assert resolve_baseline(store, None, candidate=store.get(c.id)) is None
    with pytest.raises(RunNotFound, match="is the run itself"):
        resolve_baseline(store, b.id, candidate=store.get(b.id))
