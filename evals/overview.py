"""Tables for the eval overview notebook: eval runs, per-question results and ledger exports.

Point it at a real home to see real data; ``testkit.samples.sample_data`` fills an empty
database with a small, deterministic picture so the notebook runs anywhere, offline.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Engine

from evals.run_store import RunStore

QUALITY = ("recall@5", "mrr", "ndcg@10", "confident", "cited")


def runs_frame(engine: Engine, *, dataset: str | None = None) -> pd.DataFrame:
    """One row per stored run: identity, prompt version, status and every summary figure."""
    rows = []
    for r in RunStore(engine).list_runs(dataset_name=dataset, limit=1000):
        rows.append(
            {
                "run": r.id,
                "dataset": r.dataset_name,
                "label": r.label,
                "status": r.status,
                "created": datetime.fromtimestamp(r.created_at, UTC),
                "prompt_version": r.snapshot.prompt_version or "(unknown)",
                "routing_version": r.snapshot.routing_version,
                "questions": r.n_items,
                **r.summary,
            }
        )
    return pd.DataFrame(rows)


def results_frame(engine: Engine, run_ids: Sequence[str]) -> pd.DataFrame:
    """One row per question of the given runs, with its metrics, tier and cost."""
    store = RunStore(engine)
    rows: list[dict[str, Any]] = []
    for run_id in run_ids:
        prompt = store.get(run_id).snapshot.prompt_version
        for res in store.results(run_id):
            a = res.answer
            rows.append(
                {
                    "run": run_id,
                    "prompt_version": prompt,
                    "item": res.item_id,
                    "principal": res.principal,
                    "ok": res.ok,
                    "tier": a.tier if a else None,
                    "cost_usd": a.cost_usd if a else None,
                    "latency_ms": a.latency_ms if a else None,
                    **res.metrics,
                }
            )
    return pd.DataFrame(rows)


def read_ledger_export(path: Path) -> pd.DataFrame:
    """A ``loregate export calls`` file (JSONL or CSV) with typed cost and time columns."""
    frame = pd.read_csv(path) if path.suffix == ".csv" else pd.read_json(path, lines=True)
    frame["cost_usd"] = frame["cost_usd"].astype(float)
    frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True)
    return frame


def cost_per_department(calls: pd.DataFrame) -> pd.DataFrame:
    """Requests, total cost, cost per request and cache-read share, by department."""
    frame = calls[calls["kind"] == "request"] if "kind" in calls else calls
    grouped = frame.groupby("department", dropna=False)
    out = pd.DataFrame(
        {
            "requests": grouped.size(),
            "cost_usd": grouped["cost_usd"].sum(),
            "input_tokens": grouped["input_tokens"].sum(),
            "cache_read_tokens": grouped["cache_read_tokens"].sum(),
        }
    )
    out["cost_per_request"] = out["cost_usd"] / out["requests"]
    total_in = out["input_tokens"] + out["cache_read_tokens"]
    out["cache_read_share"] = (out["cache_read_tokens"] / total_in).where(total_in > 0)
    return out.sort_values("cost_usd", ascending=False)


def quality_per_prompt_version(
    runs: pd.DataFrame, metrics: Sequence[str] = QUALITY
) -> pd.DataFrame:
    """The latest finished run of each prompt version: its quality figures and cost."""
    done = runs[runs["status"] == "finished"].sort_values("created")
    latest = done.groupby("prompt_version").tail(1).set_index("prompt_version")
    cols = [m for m in (*metrics, "cost_per_answer", "latency_p50") if m in latest]
    return latest[["run", *cols]]
