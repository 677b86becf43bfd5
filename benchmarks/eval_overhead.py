"""What an eval run adds around the answers: storing, scoring and the report.

One run, one process, the 100 Claude-docs questions answered by the deterministic stub answer
service (no model: the answers cost nothing to produce, so everything measured is the eval's
own work), on SQLite:

  1. answers only (a bare loop over the service): the baseline;
  2. the runner storing every result (no metrics);
  3. + retrieval metrics (ranx) and operational figures;
  4. + offline ragas with the real embedder (all-MiniLM-L6-v2): the default `eval run`;
  5. the HTML + Markdown report of that run.

Prints seconds and ms per question for each, the scoring overhead per question against the
measured p50 answer latency of a real run (the emulator's ~120-150 ms; a real Claude call takes
1-3 s), and one-time costs (ragas import, ranx compile, model load). Target: the default
scoring adds <= 50 ms per question once warm.

    .venv/bin/python benchmarks/eval_overhead.py [--questions 100]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from loregate.offline import configure_offline  # noqa: E402

configure_offline()


class NoScore:
    async def score(self, item: Any, answer: Any) -> dict[str, float | None]:
        return {}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--questions", type=int, default=100)
    args = parser.parse_args()

    from evals.answerers import InProcessAnswerer
    from evals.dataset_loader import load_dataset
    from evals.records import Snapshot
    from evals.run_store import RunStore
    from evals.runner import EvalRunner
    from loregate.database import make_engine, migrate
    from testkit.answer_service import FixedScorer, StubAnswerService

    data = ROOT.parent / "shared" / "data" / "anthropic_docs_rag"
    ds = load_dataset(data).limited(args.questions)
    n = len(ds.items)
    home = Path(tempfile.mkdtemp(prefix="eval-bench-"))
    engine = make_engine(f"sqlite:///{home / 'bench.db'}")
    migrate(engine)
    store = RunStore(engine)
    svc = StubAnswerService(ds.items, quality=0.8)
    rows: list[tuple[str, float]] = []

    async def bare() -> None:
        for item in ds.items:
            await svc.ask(item.question, principal=item.principal.to_principal())

    t = time.perf_counter()
    asyncio.run(bare())
    rows.append(("1. answers only (baseline)", time.perf_counter() - t))

    def timed_run(label: str, scorer: Any) -> str:
        run = store.create_run(
            dataset_name=ds.name,
            dataset_path=ds.path,
            dataset_sha256=ds.sha256,
            n_items=n,
            snapshot=Snapshot(mode="in-process"),
        )
        runner = EvalRunner(store, InProcessAnswerer(svc), scorer, concurrency=4)
        t0 = time.perf_counter()
        asyncio.run(runner.run(run, ds.items))
        rows.append((label, time.perf_counter() - t0))
        return run.id

    timed_run("2. + runner, results stored", NoScore())

    t = time.perf_counter()
    from evals.metrics.retrieval_ir import ir_metrics

    ir_metrics(ds.items[0], asyncio.run(svc.ask(ds.items[0].question, principal=None)))
    ranx_warm = time.perf_counter() - t
    timed_run("3. + ranx IR + operational", FixedScorer())

    t = time.perf_counter()
    from evals.metrics.scorer import MetricScorer
    from retrieval.embedder import Embedder

    embedder = Embedder()
    embedder.embed_query("warm up")
    scorer = MetricScorer(embedder, offline=True)
    setup = time.perf_counter() - t
    run_id = timed_run("4. + offline ragas, real embedder", scorer)

    from evals.report.render import write_reports
    from evals.session import report_data

    t = time.perf_counter()
    write_reports(report_data(store, store.get(run_id), dataset=ds), home)
    rows.append(("5. HTML + Markdown report", time.perf_counter() - t))

    base = rows[0][1]
    print(f"eval overhead on {n} Claude-docs questions (stub answers, SQLite)\n")
    print(f"{'step':<38} {'seconds':>8} {'ms/question':>12} {'vs baseline':>12}")
    for label, secs in rows:
        ratio = f"{secs / base:,.0f}x" if base > 0 else "-"
        print(f"{label:<38} {secs:>8.2f} {1000 * secs / n:>12.1f} {ratio:>12}")
    full = dict(rows)["4. + offline ragas, real embedder"]
    stored = dict(rows)["2. + runner, results stored"]
    per_q = 1000 * (full - stored) / n
    print(
        f"\none-time: ranx compile/first call {ranx_warm:.1f} s; ragas import + metric "
        f"objects + embedder load {setup:.1f} s"
    )
    print(
        f"default scoring per question (4 - 2): {per_q:.1f} ms "
        f"(target <= 50 ms; {'met' if per_q <= 50 else 'NOT met'})"
    )
    for answer_ms in (130.0, 1500.0):
        print(f"  = {100 * per_q / answer_ms:.0f}% of a {answer_ms:.0f} ms answer")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
