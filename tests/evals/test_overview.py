"""The overview notebook's tables (the notebook itself runs in CI: scripts/run_notebooks.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine

from evals import overview
from evals.run_store import RunStore

ROOT = Path(__file__).resolve().parents[2]


def test_cost_per_department_from_a_ledger_export(tmp_path: Path) -> None:
    rows = [
        {
            "kind": "request",
            "department": "legal",
            "cost_usd": "0.003000000",
            "input_tokens": 100,
            "cache_read_tokens": 300,
            "created_at": "2026-06-01T10:00:00+00:00",
        },
        {
            "kind": "attempt",
            "department": "legal",
            "cost_usd": "0.003000000",
            "input_tokens": 100,
            "cache_read_tokens": 300,
            "created_at": "2026-06-01T10:00:00+00:00",
        },
        {
            "kind": "request",
            "department": "legal",
            "cost_usd": "0.001000000",
            "input_tokens": 100,
            "cache_read_tokens": 0,
            "created_at": "2026-06-01T11:00:00+00:00",
        },
        {
            "kind": "request",
            "department": "hr",
            "cost_usd": "0.010000000",
            "input_tokens": 500,
            "cache_read_tokens": 0,
            "created_at": "2026-06-02T09:00:00+00:00",
        },
    ]
    path = tmp_path / "calls.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    calls = overview.read_ledger_export(path)
    assert str(calls["created_at"].dt.tz) == "UTC"
    table = overview.cost_per_department(calls)
    assert list(table.index) == ["hr", "legal"]  # most expensive first; attempts not counted
    assert table.loc["legal", "requests"] == 2
    assert table.loc["legal", "cost_usd"] == pytest.approx(0.004)
    assert table.loc["legal", "cost_per_request"] == pytest.approx(0.002)
    assert table.loc["legal", "cache_read_share"] == pytest.approx(300 / 500)
    csv = tmp_path / "calls.csv"
    pd.DataFrame(rows).to_csv(csv, index=False)
    assert overview.cost_per_department(overview.read_ledger_export(csv)).equals(table)


def test_quality_per_prompt_version_takes_each_versions_latest_run(
    engine: Engine, store: RunStore
) -> None:
    from evals.records import Snapshot

    made = []
    for version, recall in (("v1", 0.5), ("v2", 0.7), ("v1", 0.6)):
        run = store.create_run(
            dataset_name="s",
            dataset_path="/s.jsonl",
            dataset_sha256="0",
            n_items=1,
            snapshot=Snapshot(mode="in-process", prompt_version=version),
        )
        store.finish(run.id, status="finished", summary={"recall@5": recall})
        made.append(run.id)
    runs = overview.runs_frame(engine)
    assert list(runs["run"]) == made[::-1]
    table = overview.quality_per_prompt_version(runs)
    assert table.loc["v1", "recall@5"] == 0.6 and table.loc["v1", "run"] == made[2]
    assert table.loc["v2", "recall@5"] == 0.7


def test_the_notebook_is_committed_without_outputs() -> None:
    nb = json.loads((ROOT / "notebooks" / "eval_overview.ipynb").read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code and all(not c["outputs"] and c["execution_count"] is None for c in code)
    source = "".join("".join(c["source"]) for c in code)
    assert "samples.sample_data" in source and "cost_per_department" in source
