"""The run store on PostgreSQL: the same records as on SQLite."""

from __future__ import annotations

import asyncio

import pytest

from evals.answerers import InProcessAnswerer
from evals.dataset import Dataset
from evals.records import Snapshot
from evals.run_store import RunStore
from evals.runner import EvalRunner
from loregate.database import make_engine, migrate
from testkit.answer_service import StubAnswerService
from tests.evals.conftest import StepClock
from tests.evals.test_runner import CountingScorer


@pytest.mark.postgres
def test_runs_and_results_round_trip_on_postgres(postgres_url: str, dataset: Dataset) -> None:
    engine = make_engine(postgres_url)
    migrate(engine)
    try:
        store = RunStore(engine, clock=StepClock())
        run = store.create_run(
            dataset_name=dataset.name,
            dataset_path=dataset.path,
            dataset_sha256=dataset.sha256,
            n_items=len(dataset.items),
            snapshot=Snapshot(mode="in-process", chunker={"size": 256}),
        )
        svc = StubAnswerService(dataset.items, fail_ids=["q1"])
        out = asyncio.run(
            EvalRunner(store, InProcessAnswerer(svc), CountingScorer()).run(run, dataset.items)
        )
        info = store.get("latest")
        assert info.id == run.id and info.n_done == 5 and info.snapshot.chunker == {"size": 256}
        assert info.summary == out.summary and info.summary["error_rate"] == pytest.approx(1 / 6)
        results = store.results(run.id)
        assert [r.item_id for r in results] == [i.id for i in dataset.items]
        assert results[0].answer is not None and results[0].metrics["recall@5"] is not None
        assert store.done_item_ids(run.id) == {"q0", "q2", "q3", "q4", "q5"}
    finally:
        engine.dispose()
