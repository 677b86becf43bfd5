"""The console's usage page on a big ledger, and what a dashboard costs the gateway.

One run, same machine:
  - a fresh SQLite database seeded with ``--rows`` (default 1,000,000) ledger request rows over
    90 days, 20 departments, 60 projects, 2,000 users, 4 models, 3 routes;
  - the rollup folded in from scratch (timed: what the background refresher does once);
  - the baseline: the page's figures computed from the ledger itself (what a page without
    the rollup would pay);
  - ``loregate serve`` (one worker) against the wire emulator: the first render of
    ``/console/usage`` (admin, everyone, 30 days) after start, then renders per grouping;
  - gateway overhead one request at a time and at 32 concurrent clients, without and then
    with dashboard load (``--dashboards`` clients each loading a usage page every second).
Targets: first render < 1 s; gateway overhead rise <= 10 %.

    .venv/bin/python benchmarks/console_usage.py [--rows 1000000] [--sequential 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import sqlite3
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from gateway_overhead import (  # noqa: E402
    admin_key,
    bench_env,
    concurrent,
    free_port,
    pct,
    sequential_pair,
    serve,
    start_emulator,
    stop,
    wait_up,
)

COLUMNS = (
    "kind, request_id, step, created_at, user_id, department, project, key_id, source, route,"
    " requested_route, tier, model_alias, model_id, provider, routing_version, input_tokens,"
    " output_tokens, cache_write_5m_tokens, cache_write_1h_tokens, cache_read_tokens,"
    " cost_nano_usd, latency_ms, retries, fallbacks, escalations, outcome, stream"
)
MODELS = ("claude-haiku-4-5", "claude-sonnet-4-6", "claude-opus-4-8", "local-smollm2")
ROUTES = ("default", "free-first", "offline")


def seed(db: Path, rows: int) -> float:
    rng = random.Random(7)
    now = datetime.now(UTC).replace(microsecond=0)
    users = [(f"user{u:04d}", f"dept{u % 20:02d}", f"proj{u % 60:02d}") for u in range(2000)]

    def gen() -> object:
        for i in range(rows):
            user, dept, proj = users[rng.randrange(2000)]
            when = now - timedelta(seconds=rng.randrange(90 * 86400))
            tier = rng.choice((0, 0, 0, 1, 2))
            outcome = rng.choices(("ok", "error", "rejected"), (96, 2, 2))[0]
            yield (
                "request", f"seed{i}", 0, when.strftime("%Y-%m-%d %H:%M:%S.000000"),
                user, dept, proj, "lg_seed0000", "ask", ROUTES[i % 3], ROUTES[i % 3], tier,
                MODELS[tier if i % 7 else 3], "model-id", "anthropic", "bench",
                rng.randrange(200, 6000), rng.randrange(20, 600), 0, 0,
                rng.choice((0, 0, 4096)), rng.randrange(100_000, 30_000_000),
                rng.uniform(200, 4000), 0, 0, int(tier > 0), outcome, 1,
            )  # fmt: skip

    t0 = time.perf_counter()
    conn = sqlite3.connect(db)
    marks = ", ".join("?" * len(COLUMNS.split(",")))
    conn.executemany(f"INSERT INTO gateway_ledger ({COLUMNS}) VALUES ({marks})", gen())
    conn.commit()
    conn.close()
    return time.perf_counter() - t0


def baseline(url: str) -> float:
    """The page's figures straight from the ledger: totals, by department, by day."""
    from sqlalchemy import func, select

    from console.rollup import ledger_day
    from gateway.ledger.tables import ledger
    from governance import exports
    from loregate.database import make_engine

    engine = make_engine(url)
    lo = datetime.now(UTC) - timedelta(days=30)
    hi = datetime.now(UTC) + timedelta(seconds=1)
    t0 = time.perf_counter()
    exports.summary(engine, lo, hi)
    exports.billing(engine, lo, hi, "department")
    with engine.connect() as conn:
        conn.execute(
            select(ledger_day(engine), func.sum(ledger.c.cost_nano_usd))
            .where(ledger.c.kind == "request", ledger.c.created_at >= lo)
            .group_by(ledger_day(engine))
        ).all()
    took = time.perf_counter() - t0
    engine.dispose()
    return took


def fold(url: str) -> float:
    from console.rollup import UsageRollup
    from loregate.database import make_engine

    engine = make_engine(url)
    t0 = time.perf_counter()
    UsageRollup(engine, settle_s=0).refresh()
    took = time.perf_counter() - t0
    engine.dispose()
    return took


def console_client(url: str, key: str) -> httpx.Client:
    client = httpx.Client(base_url=url, timeout=60)
    r = client.post("/console/sign-in", data={"key": key})
    if r.status_code != 303:
        raise RuntimeError(f"sign-in failed: {r.status_code} {r.text[:200]}")
    return client


def render(client: httpx.Client, group_by: str = "department") -> float:
    t0 = time.perf_counter()
    r = client.get("/console/usage", params={"group_by": group_by})
    took = time.perf_counter() - t0
    r.raise_for_status()
    if not re.search(r'id="total-cost">\$[0-9,]+\.\d{4}<', r.text):
        raise RuntimeError("the usage page has no total")
    return took


class Dashboards:
    """``n`` dashboard users, each loading a usage page every ``every`` seconds."""

    def __init__(self, url: str, key: str, n: int, every: float = 1.0) -> None:
        self.clients = [console_client(url, key) for _ in range(n)]
        self.every = every
        self.stop = threading.Event()
        self.loads: list[float] = []
        self.threads = [threading.Thread(target=self.run, args=(c,)) for c in self.clients]

    def run(self, client: httpx.Client) -> None:
        groups = ("department", "user", "day", "model", "route", "project")
        i = 0
        while not self.stop.is_set():
            self.loads.append(render(client, groups[i % len(groups)]))
            i += 1
            self.stop.wait(self.every)

    def __enter__(self) -> Dashboards:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for t in self.threads:
            t.join()
        for c in self.clients:
            c.close()


def gateway_figures(emu_url: str, url: str, key: str, args: argparse.Namespace) -> list[float]:
    direct, through, _own = sequential_pair(emu_url, url, args.sequential, key)
    rps = asyncio.run(concurrent(url, args.concurrent, 32, "bench", key))
    return [
        pct(through, 0.5) - pct(direct, 0.5),
        pct(through, 0.99) - pct(direct, 0.99),
        pct(through, 0.5),
        rps,
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--sequential", type=int, default=1000)
    parser.add_argument("--concurrent", type=int, default=3000)
    parser.add_argument("--dashboards", type=int, default=2)
    args = parser.parse_args()

    emu_port = free_port()
    emu_url = f"http://127.0.0.1:{emu_port}"
    emulator = start_emulator(emu_port)
    with tempfile.TemporaryDirectory(prefix="loregate-console-bench-") as tmp:
        home = Path(tmp)
        env = bench_env(emu_url, home)
        env["LOREGATE_CONSOLE_ROLLUP_INTERVAL_S"] = "5"
        key = admin_key(env)  # also migrates the database
        db = home / "loregate.db"
        url_db = f"sqlite:///{db}"
        print(f"seeding {args.rows:,} ledger rows: {seed(db, args.rows):.1f} s")
        print(f"rollup folded in from scratch: {fold(url_db):.1f} s (once; then incremental)")
        base = baseline(url_db)
        print(f"baseline, the same figures straight from the ledger: {base * 1000:.0f} ms")
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        try:
            wait_up(emu_url, "/v1/models", emulator)
            proc = serve(port, env, workers=1)
            try:
                wait_up(url, "/healthz", proc)
                client = console_client(url, key)
                try:
                    first = render(client)
                    verdict = "met" if first < 1 else "MISSED"
                    print(
                        f"usage page, first render after start: {first * 1000:.0f} ms "
                        f"(target < 1 s: {verdict}; {base / first:.1f}x faster than the baseline)"
                    )
                    for group in ("department", "project", "user", "model", "route", "day"):
                        times = sorted(render(client, group) for _ in range(5))
                        print(f"  grouped by {group:<10} median {times[2] * 1000:6.0f} ms")
                finally:
                    client.close()
                quiet = gateway_figures(emu_url, url, key, args)
                with Dashboards(url, key, args.dashboards) as dash:
                    loaded = gateway_figures(emu_url, url, key, args)
                    pages = len(dash.loads)
                    page50 = sorted(dash.loads)[len(dash.loads) // 2] if dash.loads else 0.0
                print(f"\ngateway ({args.sequential} sequential, {args.concurrent} at 32 clients):")
                print(f"  {'':>22} {'added p50':>10} {'added p99':>10} {'p50':>8} {'req/s':>8}")
                for label, f in (("quiet", quiet), ("with dashboards", loaded)):
                    print(f"  {label:>22} {f[0]:10.3f} {f[1]:10.3f} {f[2]:8.3f} {f[3]:8.0f}")
                rise = (loaded[0] - quiet[0]) / quiet[0] * 100 if quiet[0] > 0 else 0.0
                drop = (quiet[3] - loaded[3]) / quiet[3] * 100
                ok = "met" if rise <= 10 and drop <= 10 else "MISSED"
                print(
                    f"  dashboard load: {args.dashboards} users, {pages} usage pages loaded "
                    f"(median {page50 * 1000:.0f} ms)\n  overhead p50 rise {rise:+.1f}%, "
                    f"throughput change {-drop:+.1f}% (target rise <= 10%: {ok})"
                )
            finally:
                stop(proc)
        finally:
            stop(emulator)


if __name__ == "__main__":
    main()
