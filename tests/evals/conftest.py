"""Fixtures of the evals tests: a migrated database, a run store, a small suite."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from evals.dataset import Dataset, EvalItem, items_sha
from evals.run_store import RunStore
from loregate.database import make_engine, migrate
from testkit.clock import ManualClock


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    eng = make_engine(f"sqlite:///{tmp_path / 'evals.db'}")
    migrate(eng)
    yield eng
    eng.dispose()


def StepClock(start: float = 1_750_000_000.0) -> ManualClock:
    """A wall clock that moves one second per reading (run ids and ordering are stable)."""
    return ManualClock(start, step=1.0)


@pytest.fixture
def store(engine: Engine) -> RunStore:
    return RunStore(engine, clock=StepClock())


def make_items(n: int = 6) -> list[EvalItem]:
    return [
        EvalItem(
            id=f"q{i}",
            question=f"What is fact number {i}?",
            reference=f"Fact {i} is true.",
            reference_doc_ids=(f"doc-{i}",),
            reference_contexts=(f"Fact {i} is true.",),
            tags=("even" if i % 2 == 0 else "odd",),
        )
        for i in range(n)
    ]


@pytest.fixture
def dataset() -> Dataset:
    items = make_items()
    return Dataset(name="mini", path="/tmp/mini.jsonl", items=items, sha256=items_sha(items))
