"""What governance adds to a gateway call, and how fast its background parts are.

One process, one run. A Gateway over an in-process scripted provider (no network, no model)
is called one request at a time:
  - baseline: no governance (``NoGovernance``);
  - embedded, no budget/limit: governance as ``loregate serve`` wires it (SQLite), no budget
    or rate-limit rule applying: metrics and the audit record only;
  - embedded: the same with a department budget and a rate-limit rule that apply to every
    request; budgets settle and the audit writer redacts and appends in background threads;
  - redis: the same with budgets and rate limits in Redis (skipped if Redis is not running).

Prints p50/p99 per request and the added latency, then: API-key lookups (cached and not),
redaction speed (presidio vs the regex-only path), audit appends and chain verification.

    .venv/bin/python benchmarks/governance_overhead.py [--requests 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gateway.hooks import NoGovernance  # noqa: E402
from gateway.ledger import NullLedger  # noqa: E402
from gateway.service import Gateway  # noqa: E402
from gateway.types import ModelRequest  # noqa: E402
from governance.audit import AuditLog  # noqa: E402
from governance.audit_verify import verify  # noqa: E402
from governance.keys import KeyStore  # noqa: E402
from governance.pii_rules import quick_redact  # noqa: E402
from governance.redaction import PiiRedactor  # noqa: E402
from kernel.principal import Principal  # noqa: E402
from loregate.database import make_engine, migrate  # noqa: E402
from loregate.graph import Loregate  # noqa: E402
from loregate.overrides import Overrides  # noqa: E402
from loregate.settings import load_settings  # noqa: E402
from testkit.scripted import ScriptedProvider  # noqa: E402

T0 = datetime(2026, 6, 1, tzinfo=UTC)
ALICE = Principal(user_id="alice", department="sales", project="crm", key_id="lg_0000a11c")
REQUEST = ModelRequest(
    model="default",
    system="You answer from the sources. " * 20,
    messages=[{"role": "user", "content": "What is the notice period in clause 9.2?"}],
    max_tokens=256,
)
TEXT = (
    "Hello, I am Li Wei (li.wei@example.com.cn, +44 20 7946 0958, 13912345678). Please update "
    "the contract for account GB82 WEST 1234 5698 7654 32 and card 4111 1111 1111 1111. "
    "The notice period in clause 9.2 is ninety days; the renewal date is 2026-09-30. "
) * 3


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1]


async def timed(gateway: Gateway, n: int) -> list[float]:
    for _ in range(50):  # warm up
        await gateway.invoke(REQUEST, principal=ALICE)
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        await gateway.invoke(REQUEST, principal=ALICE)
        out.append((time.perf_counter() - t0) * 1000)
    return out


def wired(
    home: Path, redis_url: str | None, limits: bool = True, *, governed: bool = True
) -> tuple[Loregate, Gateway]:
    """The graph exactly as ``loregate serve`` builds it, around a scripted provider, the ledger
    left out (the governance cost alone); ``governed=False``: no governance (the baseline)."""
    overrides = Overrides(
        providers={"anthropic": ScriptedProvider("anthropic"), "openai": None, "local": None},
        ledger=NullLedger(),
        hooks=None if governed else NoGovernance(),
    )
    graph = Loregate(load_settings(home=home, redis_url=redis_url), overrides)
    graph.migrate()
    p = graph.governance_parts
    if limits:
        p.budgets.set("department", "sales", period="month", hard_usd="1000000")
        p.rules.set("department", "sales", rpm=10_000_000, tpm=None)
    return graph, graph.gateway


def redis_up() -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", 6379)) == 0


def rate(fn: Callable[[], object], n: int) -> float:
    t0 = time.perf_counter()
    for _ in range(n):
        fn()
    return n / (time.perf_counter() - t0)


async def main(n: int) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="lg-gov-bench-"))
    engine = make_engine(f"sqlite:///{tmp / 'bench.db'}")
    migrate(engine)
    redactor = PiiRedactor()
    redactor.warm_up().join()

    print(f"governance overhead, {n} sequential requests (scripted provider, in-process)")
    baseline, bare = wired(tmp / "bare", None, False, governed=False)
    base = await timed(bare, n)
    await baseline.aclose()
    print(f"  baseline (no governance)   p50 {pct(base, 50):.3f} ms  p99 {pct(base, 99):.3f} ms")
    runs: list[tuple[str, str | None, bool]] = [
        ("embedded, no budget/limit", None, False),
        ("embedded (SQLite, memory)", None, True),
    ]
    if redis_up():
        import redis

        url = "redis://127.0.0.1:6379/15"
        redis.Redis.from_url(url).flushdb()
        runs.append(("redis (budgets + limits)", url, True))
    else:
        print("  (Redis not running at 127.0.0.1:6379: its run is skipped)")
    for i, (label, url, limits) in enumerate(runs):
        graph, gateway = wired(tmp / f"home{i}", url, limits)
        t0 = time.perf_counter()
        lat = await timed(gateway, n)
        await graph.aclose()  # waits for the audit writer and the budget worker to drain
        drained = time.perf_counter() - t0
        print(
            f"  {label:<26} p50 {pct(lat, 50):.3f} ms  p99 {pct(lat, 99):.3f} ms   added p50 "
            f"{pct(lat, 50) - pct(base, 50):+.3f} ms  p99 {pct(lat, 99) - pct(base, 99):+.3f} ms"
            f"   ({n + 50} audit records written in {drained:.1f} s)"
        )

    keys = KeyStore(engine, cache_ttl_s=5)
    key = keys.create(user="bench").key
    uncached = KeyStore(engine, cache_ttl_s=0)
    print("\nAPI-key lookup")
    print(f"  cached        {rate(lambda: keys.lookup(key), 20000):>10,.0f} lookups/s")
    print(f"  SQLite query  {rate(lambda: uncached.lookup(key), 2000):>10,.0f} lookups/s")

    print(f"\nredaction of a {len(TEXT)}-character text with 7 planted items")
    fresh = [TEXT + str(i) for i in range(300)]  # defeat the cache of repeated texts
    it = iter(fresh)
    presidio = rate(lambda: redactor.redact(next(it)), 300)
    quick = rate(lambda: quick_redact(TEXT), 2000)
    print(f"  presidio + our recognisers  {presidio:>8,.0f} texts/s")
    print(f"  regex rules only (logs)     {quick:>8,.0f} texts/s   ({quick / presidio:.0f}x)")

    log = AuditLog(engine)
    before = log.count()
    payload = {"request": {"messages": [{"role": "user", "content": "x" * 500}]}, "cost": 1}
    t0 = time.perf_counter()
    for i in range(20):
        log.append([(f"b{i}_{j}", T0, payload) for j in range(100)])
    append_rate = 2000 / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    report = verify(log)
    verify_rate = report.records / (time.perf_counter() - t0)
    print("\naudit log (SQLite)")
    print(f"  append, batches of 100   {append_rate:>10,.0f} records/s")
    print(
        f"  verify the chain          {verify_rate:>10,.0f} records/s "
        f"({report.records} records, ok={report.ok}, {before} from the runs above)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    asyncio.run(main(parser.parse_args().requests))
