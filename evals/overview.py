"""Tables for the eval overview notebook: eval runs, per-question results and ledger exports.

``sample_data`` fills an empty loregate database with a small, deterministic picture (two prompt
versions evaluated on the demo suite, and a ledger export of calls from several departments),
so the notebook runs anywhere, offline, in seconds; point it at a real home to see real data.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd
from sqlalchemy import Engine

from evals.dataset import load_dataset
from evals.run_store import RunStore

T = TypeVar("T")
QUALITY = ("recall@5", "mrr", "ndcg@10", "confident", "cited")
ROOT = Path(__file__).resolve().parent


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


# A small, deterministic sample --------------------------------------------------------------
def _run_blocking(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to the end, also from a notebook (whose kernel already runs a loop)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


def _sample_runs(engine: Engine) -> list[str]:
    from evals.answerers import InProcessAnswerer
    from evals.records import Snapshot
    from evals.runner import EvalRunner
    from evals.testing import FixedScorer, StubAnswerService

    suite = load_dataset(ROOT / "suites" / "demo.jsonl")
    store = RunStore(engine)
    ids = []
    for version, quality, seed in (("answer@v1", 0.55, 1), ("answer@v2", 0.8, 2)):
        run = store.create_run(
            dataset_name=suite.name,
            dataset_path=suite.path,
            dataset_sha256=suite.sha256,
            n_items=len(suite.items),
            label=f"sample {version}",
            snapshot=Snapshot(mode="in-process", prompt_version=version),
        )
        svc = StubAnswerService(suite.items, quality=quality, seed=seed, prompt_version=version)
        runner = EvalRunner(store, InProcessAnswerer(svc), FixedScorer())
        _run_blocking(runner.run(run, suite.items))
        ids.append(run.id)
    return ids


def _sample_ledger(engine: Engine, out: Path) -> Path:
    """Calls from four departments through a real Gateway (scripted provider, SQL ledger),
    exported with governance's own exporter, as ``loregate export calls`` writes them."""
    from gateway.config import load_config
    from gateway.governance import exports
    from gateway.ledger.writer import LedgerWriter
    from gateway.principal import Principal
    from gateway.service import Gateway
    from gateway.testing import Answer, ScriptedProvider
    from gateway.types import ModelRequest, Usage

    provider = ScriptedProvider("anthropic")
    writer = LedgerWriter(engine)
    gw = Gateway(
        load_config(), {"anthropic": provider, "openai": None, "local": None}, ledger=writer
    )
    calls = {
        "legal": (14, 2400, 4096),
        "hr": (9, 1500, 4096),
        "support": (22, 900, 0),
        "engineering": (6, 600, 4096),
    }

    async def go() -> None:
        for dept, (n, fresh, cached) in calls.items():
            who = Principal(user_id=f"{dept}-user", department=dept)
            for i in range(n):
                provider.push(
                    Answer(
                        "ok [1]",
                        usage=Usage(
                            input_tokens=fresh + 37 * i,
                            output_tokens=120 + 5 * i,
                            cache_read_input_tokens=cached if i % 3 else 0,
                            cache_creation_input_tokens=0 if i % 3 else cached,
                        ),
                    )
                )
                req = ModelRequest(
                    model="default",
                    max_tokens=300,
                    messages=[{"role": "user", "content": f"question {i}"}],
                )
                await gw.invoke(
                    req,
                    principal=who,
                    source="ask",
                    prompt_version="answer@v2" if i % 2 else "answer@v1",
                )
        await gw.aclose()

    _run_blocking(go())
    now = datetime.now(UTC)
    rows = exports.calls(engine, now - timedelta(days=1), now + timedelta(days=1))
    with out.open("w", encoding="utf-8") as f:
        for line in exports.to_jsonl(rows):
            f.write(line)
    return out


def sample_data(engine: Engine, home: Path) -> tuple[list[str], Path]:
    """Sample eval runs and a ledger export in ``engine`` (migrated) and ``home``."""
    home.mkdir(parents=True, exist_ok=True)
    return _sample_runs(engine), _sample_ledger(engine, home / "ledger-export.jsonl")
