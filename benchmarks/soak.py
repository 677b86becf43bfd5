"""The soak (issue 18): two `loregate serve` replicas on one PostgreSQL (a fresh schema of the
database `test`) and one Redis (database 12), the wire emulator in its own process, traffic
at a steady rate split across both replicas for --minutes (10 by default).

A third of the way in, Redis is restarted (it comes back empty: budgets are rebuilt from the
ledger); at two thirds, PostgreSQL is restarted (readiness reports it; the writers retry and
the journal holds what they could not write). Both commands are this machine's own
(see the brief); they disturb everyone using those servers for a few seconds, so run it
briefly and knowingly, never in the tests.

Prints, for every interval: requests, errors by status, p50/p99 latency, each replica's RSS;
then the memory growth (last interval vs the first after warm-up), the p99 of the quiet
intervals, and whether the ledger holds exactly one row for every 200 the client received.

    .venv/bin/python benchmarks/soak.py [--minutes 10] [--rate 40] [--no-restarts]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import httpx
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gateway_overhead import free_port, pct, rss_mib, start_emulator, stop, wait_up

ROOT = Path(__file__).resolve().parent.parent
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
REDIS = "redis://127.0.0.1:6379/12"
BODY = {
    "model": "claude-haiku-4-5",
    "max_tokens": 16,
    "messages": [{"role": "user", "content": "hi"}],
}
REDIS_START = (
    'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no '
    "--dir /var/lib/redis --logfile /var/log/redis/ci.log"
)
PG_RESTART = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main restart"


def restart_redis(probe: Callable[[], str]) -> str:
    """Stop Redis, see what readiness says, start it again (empty: no persistence here)."""
    subprocess.run("redis-cli -p 6379 shutdown nosave", shell=True, check=False)
    time.sleep(1.0)
    seen = probe()
    subprocess.run(REDIS_START, shell=True, check=True)
    return seen


def restart_postgres(probe: Callable[[], str]) -> str:
    """The machine's restart command in two halves, readiness probed in between."""
    subprocess.run(PG_RESTART.replace("restart", "stop"), shell=True, check=True)
    seen = probe()
    subprocess.run(PG_RESTART.replace("restart", "start"), shell=True, check=True)
    return seen


class Soak:
    def __init__(self, work: Path, rate: float) -> None:
        self.work = work
        self.rate = rate
        self.schema = f"soak_{uuid.uuid4().hex[:10]}"
        self.db = f"{POSTGRES}?options=-csearch_path%3D{self.schema}"
        self.samples: list[tuple[float, float, int | None, str]] = []  # t, ms, status, rid
        self.events: list[tuple[float, str]] = []
        self.procs: list[subprocess.Popen[bytes]] = []
        self.urls: list[str] = []

    def start(self) -> str:
        admin = sa.create_engine(POSTGRES)
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{self.schema}"'))
        admin.dispose()
        emu_port = free_port()
        emulator = start_emulator(emu_port)
        self.procs.append(emulator)
        emu_url = f"http://127.0.0.1:{emu_port}"
        wait_up(emu_url, "/v1/models", emulator)
        from governance.budgets import BudgetBook
        from governance.keys import KeyStore
        from governance.ratelimit import RateRules
        from loregate.database import make_engine, migrate

        engine = make_engine(self.db)
        migrate(engine)
        made = KeyStore(engine).create(user="soak", role="employee", department="soak")
        # a budget and a rate limit, so that both count in Redis (and fail closed without it)
        BudgetBook(engine).set("user", "soak", period="day", hard_usd="1000")
        RateRules(engine).set("key", made.record.id, rpm=1_000_000, tpm=None)
        engine.dispose()
        key = made.key
        for i in range(2):
            port = free_port()
            env = {
                **os.environ,
                "LOREGATE_HOME": str(self.work / f"r{i}"),
                "LOREGATE_DATABASE_URL": self.db,
                "LOREGATE_REDIS_URL": REDIS,
                "ANTHROPIC_BASE_URL": emu_url,
                "ANTHROPIC_API_KEY": "soak",
                "PYTHONPATH": str(ROOT),
            }
            cmd = [sys.executable, "-m", "loregate", "serve", "--port", str(port)]
            log = (self.work / f"r{i}.log").open("wb")
            proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
            self.procs.append(proc)
            self.urls.append(f"http://127.0.0.1:{port}")
            wait_up(self.urls[-1], "/readyz", proc)
        return key

    async def load(self, key: str, seconds: float, t0: float) -> None:
        limits = httpx.Limits(max_connections=200)
        async with httpx.AsyncClient(timeout=30, limits=limits) as client:
            tasks: set[asyncio.Task[None]] = set()

            async def one(i: int) -> None:
                rid = f"soak-{uuid.uuid4().hex[:16]}"
                headers = {"x-api-key": key, "x-request-id": rid}
                sent = time.monotonic()
                try:
                    r = await client.post(
                        self.urls[i % 2] + "/v1/messages", json=BODY, headers=headers
                    )
                    status: int | None = r.status_code
                except httpx.HTTPError:
                    status = None
                self.samples.append((sent - t0, (time.monotonic() - sent) * 1000, status, rid))

            i = 0
            while (now := time.monotonic()) - t0 < seconds:
                task = asyncio.create_task(one(i))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
                i += 1
                await asyncio.sleep(max(0.0, t0 + i / self.rate - now))
            await asyncio.gather(*tasks)

    def readiness(self) -> str:
        codes = []
        for url in self.urls:
            try:
                codes.append(str(httpx.get(url + "/readyz", timeout=3).status_code))
            except httpx.HTTPError as exc:
                codes.append(type(exc).__name__)
        return "/".join(codes)

    def stop(self) -> None:
        for p in self.procs:
            stop(p)
        admin = sa.create_engine(POSTGRES)
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE'))
        admin.dispose()


def report(soak: Soak, seconds: float, interval: float, rss: list[list[float]]) -> None:
    print(f"{'t (s)':>7} {'reqs':>6} {'errors':>18} {'p50 ms':>8} {'p99 ms':>8}  RSS MiB r0/r1")
    quiet_p99: list[float] = []
    for n, start in enumerate(range(0, int(seconds), int(interval))):
        window = [s for s in soak.samples if start <= s[0] < start + interval]
        if not window:
            continue
        errors = Counter(str(s[2]) for s in window if s[2] != 200)
        lat = [s[1] for s in window if s[2] == 200] or [0.0]
        p50, p99 = (
            pct(lat, 0.5) if len(lat) > 2 else lat[0],
            pct(lat, 0.99) if len(lat) > 2 else lat[0],
        )
        marks = [e for t, e in soak.events if start <= t < start + interval]
        if not marks and not errors:
            quiet_p99.append(p99)
        mem = "/".join(f"{m:.0f}" for m in rss[n]) if n < len(rss) else ""
        err = ",".join(f"{k}:{v}" for k, v in sorted(errors.items())) or "0"
        print(
            f"{start:7d} {len(window):6d} {err:>18} {p50:8.2f} {p99:8.2f}  {mem}  {' '.join(marks)}"
        )
    first, last = rss[1] if len(rss) > 2 else rss[0], rss[-1]
    growth = [(b - a) / a * 100 for a, b in zip(first, last, strict=True)]
    print("memory growth (last interval vs the first after warm-up): "
          + ", ".join(f"r{i} {g:+.1f}%" for i, g in enumerate(growth))
          + f"  (target < 10%: {'met' if max(growth) < 10 else 'MISSED'})")  # fmt: skip
    if quiet_p99:
        print(
            f"p99 of the quiet intervals: min {min(quiet_p99):.2f} ms, max {max(quiet_p99):.2f} ms"
        )
    ok = {s[3] for s in soak.samples if s[2] == 200}  # the ledger's "ok" rows must be these
    engine = sa.create_engine(soak.db)
    from gateway.ledger.tables import ledger

    with engine.connect() as conn:
        rows = (
            conn.execute(
                sa.select(ledger.c.request_id).where(
                    ledger.c.kind == "request",
                    ledger.c.user_id == "soak",
                    ledger.c.outcome == "ok",
                )
            )
            .scalars()
            .all()
        )
    engine.dispose()
    dup = len(rows) - len(set(rows))
    missing, extra = len(ok - set(rows)), len(set(rows) - ok)
    print(f"200s received {len(ok)}, ledger rows of answered requests {len(rows)} (dup. {dup}), "
          f"200s without a row {missing}, rows without a 200 {extra}")  # fmt: skip
    for t, e in soak.events:
        print(f"  event at {t:6.1f} s: {e}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=40.0, help="requests per second")
    parser.add_argument("--no-restarts", action="store_true")
    parser.add_argument("--logs", type=Path, default=None, help="keep the replicas' logs here")
    args = parser.parse_args()
    seconds = args.minutes * 60
    interval = max(10.0, seconds / 20)
    with tempfile.TemporaryDirectory(prefix="loregate-soak-") as tmp:
        soak = Soak(Path(tmp), args.rate)
        try:
            key = soak.start()
            print(f"two replicas {', '.join(soak.urls)}; {args.rate:.0f} req/s for {seconds:.0f} s")
            rss: list[list[float]] = []
            t0 = time.monotonic()

            def background() -> None:
                restarts = [] if args.no_restarts else [
                    (seconds / 3, "redis restarted", restart_redis),
                    (2 * seconds / 3, "postgresql restarted", restart_postgres),
                ]  # fmt: skip
                next_sample = 0.0
                while (t := time.monotonic() - t0) < seconds:
                    if t >= next_sample:
                        rss.append([rss_mib(p.pid) for p in soak.procs[1:]])
                        next_sample += interval
                    if restarts and t >= restarts[0][0]:
                        _at, label, action = restarts.pop(0)
                        down = action(soak.readiness)
                        soak.events.append((t, f"{label}; readiness while down {down}"))
                        time.sleep(3)
                        soak.events.append((time.monotonic() - t0, f"readiness {soak.readiness()}"))
                    time.sleep(0.2)

            async def both() -> None:
                await asyncio.gather(soak.load(key, seconds, t0), asyncio.to_thread(background))

            asyncio.run(both())
            time.sleep(2)  # the writers drain
            report(soak, seconds, interval, rss)
        finally:
            soak.stop()
            if args.logs is not None:
                import shutil

                args.logs.mkdir(parents=True, exist_ok=True)
                for log in Path(tmp).glob("r*.log"):
                    shutil.copy(log, args.logs / log.name)


if __name__ == "__main__":
    main()
