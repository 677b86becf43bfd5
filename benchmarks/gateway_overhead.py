"""What loregate adds on top of a model call: the emulator called directly vs through loregate.

One run, same machine, same loopback, same client:
  - the wire emulator (zero delay) in its own process;
  - loregate (`loregate serve`, one worker) in its own process, its Anthropic provider pointed at
    the emulator, the ledger on SQLite;
  - this process as the client (httpx).

Prints p50/p99 latency one request at a time (direct, through loregate, added), requests per
second at 32 concurrent clients, and loregate's RSS before and after 20,000 requests.
Targets: p50 added <= 1 ms, p99 added <= 3 ms, RSS growth < 10 %.

    .venv/bin/python benchmarks/gateway_overhead.py [--sequential 2000] [--soak 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
BODY = {
    "model": "claude-haiku-4-5",
    "max_tokens": 16,
    "messages": [{"role": "user", "content": "ping"}],
}
HEADERS = {"x-api-key": "bench", "anthropic-version": "2023-06-01"}
CONFIG = """
[routes.bench]
description = "one model, the resilience wrappers on"
[[routes.bench.tiers]]
model = "claude-haiku-4-5"
attempt_timeout_s = 10
total_timeout_s = 30
retry = { max_attempts = 3 }
escalate_on = []
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_up(url: str, path: str, proc: subprocess.Popen[bytes], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server for {url} exited with {proc.returncode}")
        try:
            httpx.get(url + path, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def start_emulator(port: int) -> subprocess.Popen[bytes]:
    # The emulator's ASGI app on a plain uvicorn (EmulatorServer binds its own socket, and the
    # connections of a socket made without IPPROTO_TCP miss asyncio's TCP_NODELAY: +40 ms).
    code = (
        "import uvicorn\n"
        "from testkit.emulator import EmulatorApp\n"
        "from testkit.emulator.state import EmulatorState\n"
        "uvicorn.run(EmulatorApp(EmulatorState(record=False), {}), host='127.0.0.1', "
        f"port={port}, loop='asyncio', log_level='error', access_log=False)\n"
    )
    return subprocess.Popen([PY, "-c", code], cwd=ROOT)


def core_app() -> object:
    """The gateway core alone: its router, the Gateway, the SQLite ledger; no governance."""
    from contextlib import asynccontextmanager

    from fastapi import FastAPI

    from gateway.hooks import NoGovernance
    from gateway.http import VENDOR_ERRORS, build_router
    from gateway.ledger import LedgerSink, NullLedger
    from gateway.providers.base import Provider
    from kernel.auth import static_auth
    from kernel.principal import LOCAL_OPERATOR
    from kernel.request_context import RequestIdMiddleware
    from loregate.errors_http import install_error_handlers
    from loregate.graph import Loregate
    from loregate.overrides import Overrides
    from loregate.settings import get_settings

    providers: dict[str, Provider | None] | None = None
    if os.environ.get("BENCH_SCRIPTED"):  # no upstream at all: the gateway's own cost
        from testkit.scripted import ScriptedProvider

        providers = {"anthropic": ScriptedProvider("anthropic", keep_calls=False)}
    ledger: LedgerSink | None = NullLedger() if os.environ.get("BENCH_NO_LEDGER") else None
    # The app's own graph without governance (the core's own cost).
    graph = Loregate(
        get_settings(),
        Overrides(
            providers=providers,
            hooks=NoGovernance(),
            ledger=ledger,
            authenticate=static_auth(LOCAL_OPERATOR),
        ),
    )
    graph.migrate()
    graph.plan_routes()

    @asynccontextmanager
    async def lifespan(_app: FastAPI):  # type: ignore[no-untyped-def]
        yield
        await graph.aclose()

    app = FastAPI(lifespan=lifespan)
    app.add_middleware(RequestIdMiddleware)
    install_error_handlers(app, VENDOR_ERRORS)
    app.include_router(build_router(graph.gateway, graph.authenticate))
    return app


def bench_env(emulator_url: str, home: Path) -> dict[str, str]:
    (home / "bench.toml").write_text(CONFIG)
    env = {
        **os.environ,
        "LOREGATE_HOME": str(home),
        "LOREGATE_CONFIG": str(home / "bench.toml"),
        "ANTHROPIC_API_KEY": "bench",
        "ANTHROPIC_BASE_URL": emulator_url,
    }
    for var in ("LOREGATE_DATABASE_URL", "LOREGATE_REDIS_URL", "OPENAI_API_KEY", "OPENAI_BASE_URL"):
        env.pop(var, None)
    return env


def admin_key(env: dict[str, str]) -> str:
    """Bootstrap an admin key in the benchmark's database (the full app requires one)."""
    code = (
        "from loregate.graph import Loregate\n"
        "from loregate.settings import get_settings\n"
        "g = Loregate(get_settings())\n"
        "g.migrate()\n"
        "print(g.governance_parts.keys.create(user='bench', role='admin').key)\n"
    )
    out = subprocess.run([PY, "-c", code], cwd=ROOT, env=env, check=True, capture_output=True)
    return out.stdout.decode().strip().splitlines()[-1]


def start_loregate(port: int, env: dict[str, str], app: str) -> subprocess.Popen[bytes]:
    # What `loregate serve` runs (one worker), without the CLI around it.
    return subprocess.Popen(
        [
            PY,
            "-m",
            "uvicorn",
            app,
            "--factory",
            "--port",
            str(port),
            "--app-dir",
            str(ROOT / "benchmarks"),
            "--log-level",
            "error",
            "--no-access-log",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
    )


def sequential_pair(
    direct_url: str, url: str, n: int, key: str
) -> tuple[list[float], list[float], list[float]]:
    """``n`` requests one at a time to each, in alternating blocks of 50; also loregate's own
    time per request as it reports it (``x-loregate-overhead-ms``: arrival to response, minus
    the time spent waiting on the upstream call)."""
    direct_body = {**BODY, "model": "claude-haiku-4-5"}
    body = {**BODY, "model": "bench"}
    times: tuple[list[float], list[float]] = ([], [])
    own: list[float] = []
    with (
        httpx.Client(base_url=direct_url, headers=HEADERS, timeout=30) as d,
        httpx.Client(base_url=url, headers={**HEADERS, "x-api-key": key}, timeout=30) as t,
    ):
        for _ in range(100):  # warm up connections, imports, caches
            d.post("/v1/messages", json=direct_body).raise_for_status()
            t.post("/v1/messages", json=body).raise_for_status()
        for block in range(0, n, 50):
            for client, payload, out in ((d, direct_body, times[0]), (t, body, times[1])):
                for _ in range(min(50, n - block)):
                    t0 = time.perf_counter()
                    r = client.post("/v1/messages", json=payload)
                    out.append((time.perf_counter() - t0) * 1000)
                    r.raise_for_status()
                    if client is t:
                        own.append(float(r.headers["x-loregate-overhead-ms"]))
    return times[0], times[1], own


async def concurrent(url: str, total: int, workers: int, model: str, key: str) -> float:
    """Requests per second with ``workers`` clients (aiohttp: a light client, so the figure is
    the server's, not the load generator's)."""
    import aiohttp

    body = {**BODY, "model": model}
    headers = {**HEADERS, "x-api-key": key}
    connector = aiohttp.TCPConnector(limit=workers)
    async with aiohttp.ClientSession(url, headers=headers, connector=connector) as session:
        remaining = total
        errors = 0

        async def post() -> None:
            nonlocal errors
            async with session.post("/v1/messages", json=body) as r:
                await r.read()
                errors += r.status != 200

        async def worker() -> None:
            nonlocal remaining
            while remaining > 0:
                remaining -= 1
                await post()

        await asyncio.gather(*(post() for _ in range(workers)))
        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(workers)))
        elapsed = time.perf_counter() - t0
    if errors:
        raise RuntimeError(f"{errors} requests failed")
    return total / elapsed


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=1000)[int(q * 1000) - 1]


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()


def measure(name: str, app: str, emu_url: str, args: argparse.Namespace, **extra_env: str) -> None:
    with tempfile.TemporaryDirectory(prefix="loregate-bench-") as tmp:
        env = {**bench_env(emu_url, Path(tmp)), **extra_env}
        key = admin_key(env) if app.startswith("loregate.") else "unused"
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        proc = start_loregate(port, env, app)
        try:
            wait_up(url, "/v1/models", proc)
            print(f"\n=== {name} ({app}, pid {proc.pid}) ===")
            # Direct and through in alternating blocks, so the machine's drift hits both alike.
            direct, through, own = sequential_pair(emu_url, url, args.sequential, key)
            print(f"one request at a time, {len(direct)} each (ms):")
            print(f"  {'':>16} {'p50':>8} {'p99':>8}")
            for label, t in (("direct", direct), ("through loregate", through)):
                print(f"  {label:>16} {pct(t, 0.5):8.3f} {pct(t, 0.99):8.3f}")
            add50 = pct(through, 0.5) - pct(direct, 0.5)
            add99 = pct(through, 0.99) - pct(direct, 0.99)
            verdict = "met" if add50 <= 1 and add99 <= 3 else "MISSED"
            print(f"  {'added':>16} {add50:8.3f} {add99:8.3f}   (targets 1 / 3 ms: {verdict})")
            print(
                f"  {'own time':>16} {pct(own, 0.5):8.3f} {pct(own, 0.99):8.3f}   (loregate's"
                " x-loregate-overhead-ms; the rest of 'added' is the SDK call and the second hop)"
            )

            rps_d = asyncio.run(concurrent(emu_url, args.concurrent, 32, "claude-haiku-4-5", "b"))
            rps_t = asyncio.run(concurrent(url, args.concurrent, 32, "bench", key))
            print(
                f"32 concurrent clients, {args.concurrent} requests: direct {rps_d:.0f} req/s, "
                f"through loregate {rps_t:.0f} req/s ({rps_t / rps_d:.2f}x)"
            )

            if args.soak:
                before = rss_mib(proc.pid)
                asyncio.run(concurrent(url, args.soak, 32, "bench", key))
                time.sleep(1.0)  # let the ledger writer drain
                after = rss_mib(proc.pid)
                growth = (after - before) / before * 100
                print(
                    f"RSS {before:.1f} MiB before, {after:.1f} MiB after {args.soak} more "
                    f"requests: {growth:+.1f}% (target < 10%: "
                    f"{'met' if growth < 10 else 'MISSED'})"
                )
        finally:
            stop(proc)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sequential", type=int, default=2000)
    parser.add_argument("--concurrent", type=int, default=4000)
    parser.add_argument("--soak", type=int, default=20000)
    parser.add_argument("--only", choices=["core", "full", "scripted"], default=None)
    args = parser.parse_args()

    emu_port = free_port()
    emu_url = f"http://127.0.0.1:{emu_port}"
    emulator = start_emulator(emu_port)
    try:
        wait_up(emu_url, "/v1/models", emulator)
        print(f"emulator (zero delay) at {emu_url}")
        if args.only in (None, "core"):
            measure(
                "gateway core: router + Gateway + ledger, no governance",
                "gateway_overhead:core_app",
                emu_url,
                args,
            )
        if args.only in (None, "scripted"):
            measure(
                "for reference: the gateway core with an in-process scripted model (no upstream"
                " hop; compare with one direct emulator call)",
                "gateway_overhead:core_app",
                emu_url,
                args,
                BENCH_SCRIPTED="1",
            )
        if args.only in (None, "full"):
            measure(
                "the whole app as `loregate serve` runs it (governance on)",
                "loregate.app:app_factory",
                emu_url,
                args,
            )
    finally:
        stop(emulator)


if __name__ == "__main__":
    main()
