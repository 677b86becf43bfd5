"""Sample data for the eval overview notebook: two prompt versions evaluated on the demo suite
(a stub answer service), and a ledger export of calls from four departments through a real
Gateway on a scripted provider. Deterministic, offline, seconds."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine

from evals.dataset_loader import load_dataset
from evals.run_store import RunStore

T = TypeVar("T")


def _run_blocking(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to the end, also from a notebook (whose kernel already runs a loop)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


def _sample_runs(engine: Engine) -> list[str]:
    from evals.answerers import InProcessAnswerer
    from evals.records import Snapshot
    from evals.runner import EvalRunner
    from testkit.answer_service import FixedScorer, StubAnswerService

    suite = load_dataset(Path(str(resources.files("evals") / "suites" / "demo.jsonl")))
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
    from gateway.ledger.writer import LedgerWriter
    from gateway.route_catalogue import RouteCatalogue
    from gateway.service import Gateway
    from gateway.types import ModelRequest, Usage
    from governance import exports
    from kernel.principal import Principal
    from testkit.scripted import Reply, ScriptedProvider

    provider = ScriptedProvider("anthropic")
    writer = LedgerWriter(engine)
    providers = {"anthropic": provider, "openai": None, "local": None}
    gw = Gateway(RouteCatalogue(load_config(), providers), ledger=writer)
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
                    Reply(
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
