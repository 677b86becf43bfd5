"""What loregate adds on top of a model call: the emulator called directly vs through loregate.

One run, same machine, same loopback, same client, the direct baseline beside every figure:
  - the wire emulator in its own process (non-streamed answers at once; streamed answers of
    64 deltas 20 ms apart on the ``stream`` route's model);
  - loregate as `loregate serve` runs it (governance and audit on: an admin key, budgets,
    rate limits, the SQLite ledger and the hash-chained audit log), its Anthropic provider
    pointed at the emulator;
  - this process as the client (httpx one request at a time, aiohttp for concurrency).

Prints, against the targets of issue 14:
  1. added p50/p99 one request at a time (<= 0.5 ms / <= 2 ms), beside a bare ASGI forwarder
     on the same server stack (``bare_hop.py``: the floor of any Python hop); then the same for
     a coding agent's request (``agent_request.py``, about 110 KB: no target, what the work
     that grows with the body costs); and the CPU per request of the hop's process and of
     loregate's (its serving process, then with its writer processes);
  2. requests per second at 32 connections, through vs direct (>= 20 %);
  3. streams at 1 and 100 at once: added time to first delta, largest gap between deltas
     (no stall: never more than 10 ms over the upstream's 20 ms);
  4. RSS after the first 10,000 requests and after 100,000 (within 10 %), each once it has
     settled (``settled_rss``), beside its value as the load stopped;
  5. throughput with --workers 1 and 2, and per CPU-second of loregate's processes.

    .venv/bin/python benchmarks/gateway_overhead.py            # the full run (~4 min)
    .venv/bin/python benchmarks/gateway_overhead.py --quick    # smaller counts (~1 min)
    LOREGATE_PASSTHROUGH=false ... # the same through the SDK path, for comparison
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
from agent_request import agent_request

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
BODY = {
    "model": "claude-haiku-4-5",
    "max_tokens": 16,
    "messages": [{"role": "user", "content": "ping"}],
}
HEADERS = {"x-api-key": "bench", "anthropic-version": "2023-06-01"}
STREAM_MODEL = "claude-sonnet-4-6"
DELTAS, DELTA_INTERVAL_S = 64, 0.020
CONFIG = """
[routes.bench]
description = "one model, the resilience wrappers on"
[[routes.bench.tiers]]
model = "claude-haiku-4-5"
attempt_timeout_s = 10
total_timeout_s = 30
retry = { max_attempts = 3 }
escalate_on = []

[routes.stream]
description = "the paced streams"
[[routes.stream.tiers]]
model = "claude-sonnet-4-6"
attempt_timeout_s = 30
total_timeout_s = 60
retry = { max_attempts = 3 }
escalate_on = []
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_up(url: str, path: str, proc: subprocess.Popen[bytes], timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server for {url} exited with {proc.returncode}")
        try:
            httpx.get(url + path, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def settled_rss(pid: int, still_s: float = 3.0, limit_s: float = 15.0) -> tuple[float, float]:
    """(RSS as the load stops, RSS once it has held still for ``still_s``, at most ``limit_s``
    later). What a burst took is given back within a few seconds (the writers drain, the heap
    trim runs every 2 s: ``kernel.heap_trim``): a fixed wait sampled before or after that at
    random. Still for longer than the trim's period: a trim ran and had nothing more to give
    back."""
    first = last = rss_mib(pid)
    start = still_since = time.monotonic()
    while time.monotonic() - start < limit_s:
        time.sleep(0.25)
        now = rss_mib(pid)
        if abs(now - last) > 1.0:
            still_since = time.monotonic()
        last = now
        if time.monotonic() - still_since >= still_s:
            break
    return first, last


def tree(pid: int) -> list[int]:
    """``pid`` and every process below it (uvicorn's workers, the audit redaction children)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = [pid], [pid]
    while frontier:
        frontier = [p for p, pp in parents.items() if pp in frontier]
        found += frontier
    return found


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime + stime, in clock ticks
    return total / os.sysconf("SC_CLK_TCK")


def start_emulator(port: int) -> subprocess.Popen[bytes]:
    # The emulator's ASGI app on a plain uvicorn (EmulatorServer binds its own socket, and the
    # connections of a socket made without IPPROTO_TCP miss asyncio's TCP_NODELAY: +40 ms).
    # The stream model answers in exactly DELTAS deltas (3 words each), DELTA_INTERVAL_S apart.
    words = " ".join(f"w{i}" for i in range(DELTAS * 3))
    code = (
        "import uvicorn\n"
        "from testkit.emulator import EmulatorApp\n"
        "from testkit.emulator.state import EmulatorState\n"
        f"state = EmulatorState(record=False, delta_interval_s={DELTA_INTERVAL_S})\n"
        f"state.set_reply({STREAM_MODEL!r}, {words!r})\n"
        "uvicorn.run(EmulatorApp(state, {}), host='127.0.0.1', "
        f"port={port}, loop='asyncio', log_level='error', access_log=False)\n"
    )
    return subprocess.Popen([PY, "-c", code], cwd=ROOT)


@contextlib.contextmanager
def emulator_running() -> Iterator[str]:
    """The emulator (``start_emulator``) on a free port, up: its URL; stopped afterwards."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    emulator = start_emulator(port)
    try:
        wait_up(url, "/v1/models", emulator)
        yield url
    finally:
        stop(emulator)


def bench_env(emulator_url: str, home: Path) -> dict[str, str]:
    (home / "bench.toml").write_text(CONFIG)
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
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


def serve(port: int, env: dict[str, str], workers: int) -> subprocess.Popen[bytes]:
    """`loregate serve`, as a user runs it."""
    argv = [PY, "-m", "loregate", "serve", "--port", str(port), "--workers", str(workers)]
    argv += ["--log-level", "error"]
    return subprocess.Popen(
        argv,
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
    )


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(60)
    except subprocess.TimeoutExpired:
        proc.kill()


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=1000)[int(q * 1000) - 1]


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


# 1. One request at a time --------------------------------------------------------------------
def start_bare_hop(port: int, emulator_url: str) -> subprocess.Popen[bytes]:
    """``bare_hop.py`` on the server `loregate serve` uses (uvicorn; uvloop and httptools)."""
    argv = [PY, "-m", "uvicorn", "bare_hop:app", "--port", str(port), "--log-level", "error"]
    env = {
        **os.environ,
        "PYTHONPATH": f"{ROOT / 'benchmarks'}{os.pathsep}{ROOT}",
        "BARE_HOP_UPSTREAM": emulator_url,
    }
    return subprocess.Popen([*argv, "--no-access-log"], cwd=ROOT, env=env)


Target = tuple[str, dict[str, str], dict[str, object]]  # base URL, headers, body
WARM_UP = 200  # requests to each target before the measured ones


@dataclass
class CpuPerRequest:
    """CPU milliseconds per request of the bare hop's process, loregate's serving process
    (every thread) and loregate's whole tree (its writer processes too), over a run of
    ``one_at_a_time``: the work each does, whatever the machine's wake-ups cost."""

    hop: list[int]
    serving: int
    _before: tuple[float, float, float] = (0.0, 0.0, 0.0)

    def _now(self) -> tuple[float, float, float]:
        return (cpu_seconds(self.hop), cpu_seconds([self.serving]), cpu_seconds(tree(self.serving)))

    def start(self) -> None:
        self._before = self._now()

    def per_request(self, requests: int) -> tuple[float, float, float]:
        after = self._now()
        hop, serving, whole = (
            (b - a) * 1000 / requests for a, b in zip(self._before, after, strict=True)
        )
        return hop, serving, whole


def one_at_a_time(targets: list[Target], n: int) -> tuple[list[list[float]], list[float]]:
    """``n`` requests one at a time to each target (ms), in alternating blocks of 50 so the
    machine's drift hits all alike; the last target is loregate, whose own time as it reports
    it (x-loregate-overhead-ms) comes back too."""
    times: list[list[float]] = [[] for _ in targets]
    own: list[float] = []
    clients = [httpx.Client(base_url=u, headers=h, timeout=30) for u, h, _ in targets]
    try:
        for _ in range(WARM_UP):  # connections, imports, caches
            for client, (_u, _h, payload) in zip(clients, targets, strict=True):
                client.post("/v1/messages", json=payload).raise_for_status()
        for block in range(0, n, 50):
            for i, (client, (_u, _h, payload)) in enumerate(zip(clients, targets, strict=True)):
                for _ in range(min(50, n - block)):
                    t0 = time.perf_counter()
                    r = client.post("/v1/messages", json=payload)
                    times[i].append((time.perf_counter() - t0) * 1000)
                    r.raise_for_status()
                    if i == len(targets) - 1:
                        own.append(float(r.headers["x-loregate-overhead-ms"]))
    finally:
        for client in clients:
            client.close()
    return times, own


DIRECT_BODY = {**BODY, "model": "claude-haiku-4-5"}
THROUGH_BODY = {**BODY, "model": "bench"}


def sequential_pair(
    direct_url: str, url: str, n: int, key: str
) -> tuple[list[float], list[float], list[float]]:
    """The upstream direct and loregate one request at a time (``one_at_a_time``)."""
    (direct, through), own = one_at_a_time(
        [(direct_url, HEADERS, DIRECT_BODY), (url, {**HEADERS, "x-api-key": key}, THROUGH_BODY)],
        n,
    )
    return direct, through, own


def report_sequential(
    emu_url: str, url: str, key: str, n: int, agent_n: int, serving_pid: int
) -> None:
    port = free_port()
    hop_url = f"http://127.0.0.1:{port}"
    hop = start_bare_hop(port, emu_url)
    through_headers = {**HEADERS, "x-api-key": key}
    try:
        wait_up(hop_url, "/healthz", hop)
        cpu = CpuPerRequest(tree(hop.pid), serving_pid)
        cpu.start()
        (direct, bare, through), own = one_at_a_time(
            [
                (emu_url, HEADERS, DIRECT_BODY),
                (hop_url, HEADERS, DIRECT_BODY),
                (url, through_headers, THROUGH_BODY),
            ],
            n,
        )
        print_sequential(f"one request at a time, {len(direct)} each", direct, bare, through, own)
        print_cpu(cpu.per_request(n + WARM_UP))
        if agent_n:
            direct_agent = agent_request(DIRECT_BODY["model"])
            (direct, bare, through), own = one_at_a_time(
                [
                    (emu_url, HEADERS, direct_agent),
                    (hop_url, HEADERS, direct_agent),
                    (url, through_headers, agent_request(THROUGH_BODY["model"])),
                ],
                agent_n,
            )
            size = len(json.dumps(direct_agent, separators=(",", ":"))) // 1000
            what = f"a coding agent's request ({size} KB), one at a time, {len(direct)} each"
            print_sequential(what, direct, bare, through, own, target=False)
    finally:
        stop(hop)


def print_cpu(figures: tuple[float, float, float]) -> None:
    hop, serving, whole = figures
    print(
        f"  {'CPU per request':>16} bare hop {hop:.3f} ms; loregate {serving:.3f} ms in its "
        f"serving process, {whole:.3f} ms with its writer processes ({serving / hop:.1f}x the "
        "hop's: what its own work costs on this machine, whatever a wake-up costs here)"
    )


def print_sequential(
    what: str,
    direct: list[float],
    bare: list[float],
    through: list[float],
    own: list[float],
    target: bool = True,
) -> None:
    print(f"{what} (ms):")
    print(f"  {'':>16} {'p50':>8} {'p99':>8}")
    for label, t in (("direct", direct), ("bare hop", bare), ("through loregate", through)):
        print(f"  {label:>16} {pct(t, 0.5):8.3f} {pct(t, 0.99):8.3f}")
    add50 = pct(through, 0.5) - pct(direct, 0.5)
    add99 = pct(through, 0.99) - pct(direct, 0.99)
    if target:
        judged = f"(targets 0.5 / 2 ms: {verdict(add50 <= 0.5 and add99 <= 2)})"
    else:
        judged = "(no target: the issue's is for the one-word request)"
    print(f"  {'added':>16} {add50:8.3f} {add99:8.3f}   {judged}")
    hop50 = pct(bare, 0.5) - pct(direct, 0.5)
    print(
        f"  {'of which the hop':>16} {hop50:8.3f} {'':>8}   (a bare ASGI forwarder on the same "
        "server and upstream client: the floor of any Python hop here)"
    )
    print(
        f"  {'own time':>16} {pct(own, 0.5):8.3f} {pct(own, 0.99):8.3f}   (loregate's "
        "x-loregate-overhead-ms: arrival to answer minus the upstream call)"
    )


# 2. Throughput ---------------------------------------------------------------------------------
async def concurrent(url: str, total: int, workers: int, model: str, key: str) -> float:
    """Requests per second with ``workers`` connections (aiohttp: a light client)."""
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


# 3. Streams ------------------------------------------------------------------------------------
@dataclass
class StreamFigures:
    ttfb_ms: list[float]  # request sent -> first content delta, per stream
    max_gap_ms: list[float]  # largest gap between two deltas, per stream
    deltas: int


async def streams(url: str, n: int, model: str, key: str) -> StreamFigures:
    import aiohttp

    body = {**BODY, "model": model, "max_tokens": 4096, "stream": True}
    headers = {**HEADERS, "x-api-key": key}
    ttfb: list[float] = []
    gaps: list[float] = []
    counts: list[int] = []
    connector = aiohttp.TCPConnector(limit=n)
    async with aiohttp.ClientSession(url, headers=headers, connector=connector) as session:

        async def one() -> None:
            t0 = time.perf_counter()
            arrivals: list[float] = []
            async with session.post("/v1/messages", json=body) as r:
                if r.status != 200:
                    raise RuntimeError(f"stream failed: HTTP {r.status}")
                async for line in r.content:
                    if line.startswith(b"event: content_block_delta"):
                        arrivals.append(time.perf_counter())
            ttfb.append((arrivals[0] - t0) * 1000)
            gaps.append(max(b - a for a, b in itertools.pairwise(arrivals)) * 1000)
            counts.append(len(arrivals))

        await one()  # warm up
        ttfb.clear(), gaps.clear(), counts.clear()
        await asyncio.gather(*(one() for _ in range(n)))
    return StreamFigures(ttfb, gaps, min(counts))


def report_streams(emu_url: str, url: str, key: str, n: int) -> bool:
    direct = asyncio.run(streams(emu_url, n, STREAM_MODEL, "b"))
    through = asyncio.run(streams(url, n, "stream", key))
    upstream_ms = DELTA_INTERVAL_S * 1000
    print(f"{n} concurrent stream(s) of {through.deltas} deltas {upstream_ms:.0f} ms apart (ms):")
    print(f"  {'':>16} {'ttfb p50':>9} {'ttfb max':>9} {'gap p50':>8} {'gap max':>8}")
    for label, f in (("direct", direct), ("through loregate", through)):
        print(
            f"  {label:>16} {statistics.median(f.ttfb_ms):9.2f} {max(f.ttfb_ms):9.2f} "
            f"{statistics.median(f.max_gap_ms):8.2f} {max(f.max_gap_ms):8.2f}"
        )
    added = statistics.median(through.ttfb_ms) - statistics.median(direct.ttfb_ms)
    # A stall: a gap more than 10 ms over the upstream's own (its pace, or what the direct
    # client saw at the same concurrency when the machine itself was slower than that).
    allowed = max(upstream_ms, max(direct.max_gap_ms)) + 10
    ok = max(through.max_gap_ms) <= allowed
    print(
        f"  added time to first delta (p50) {added:.2f} ms; largest gap "
        f"{max(through.max_gap_ms):.1f} ms vs {allowed:.1f} ms allowed: "
        f"{'no stall' if ok else 'STALL'}"
    )
    return ok


# The run ---------------------------------------------------------------------------------------
def soak(url: str, key: str, total: int) -> None:
    done = 0
    while done < total:  # in slices, so the client's own memory stays flat
        step = min(20000, total - done)
        asyncio.run(concurrent(url, step, 32, "bench", key))
        done += step


def measure(emu_url: str, args: argparse.Namespace, workers: int) -> float:
    with tempfile.TemporaryDirectory(prefix="loregate-bench-") as tmp:
        env = bench_env(emu_url, Path(tmp))
        key = admin_key(env)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        proc = serve(port, env, workers)
        try:
            wait_up(url, "/healthz", proc)
            if workers > 1:
                time.sleep(5)  # every worker up and warmed
            print(f"\n=== `loregate serve --workers {workers}` (governance and audit on) ===")
            if workers == 1:
                report_sequential(emu_url, url, key, args.sequential, args.agent, proc.pid)
            rps_d = asyncio.run(concurrent(emu_url, args.concurrent, 32, "claude-haiku-4-5", "b"))
            pids = tree(proc.pid)
            cpu0 = cpu_seconds(pids)
            t0 = time.perf_counter()
            rps_t = asyncio.run(concurrent(url, args.concurrent, 32, "bench", key))
            cores = (cpu_seconds(pids) - cpu0) / (time.perf_counter() - t0)
            ratio = rps_t / rps_d
            print(
                f"32 connections, {args.concurrent} requests: direct {rps_d:.0f} req/s, through "
                f"loregate {rps_t:.0f} req/s ({ratio:.0%} of direct; target >= 20%: "
                f"{verdict(ratio >= 0.2)}); loregate used {cores:.2f} cores: "
                f"{rps_t / max(cores, 1e-9):.0f} req/s per core"
            )
            if workers > 1:
                return rps_t
            for n in (1, args.streams):
                report_streams(emu_url, url, key, n)
            if args.soak:
                soak(url, key, args.soak_first)
                stopped_before, before = settled_rss(proc.pid)
                soak(url, key, args.soak - args.soak_first)
                stopped_after, after = settled_rss(proc.pid)
                growth = (after - before) / before * 100
                ok = verdict(abs(growth) <= 10)
                print(
                    f"RSS {before:.1f} MiB after {args.soak_first} requests, {after:.1f} MiB after "
                    f"{args.soak}, each once settled: {growth:+.1f}% (target within 10%: {ok}); "
                    f"as each soak stopped: {stopped_before:.1f} and {stopped_after:.1f} MiB"
                )
            return rps_t
        finally:
            stop(proc)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller counts (about a minute)")
    parser.add_argument("--sequential", type=int, default=None)
    parser.add_argument(
        "--agent", type=int, default=None, help="a coding agent's requests; 0: skip them"
    )
    parser.add_argument("--concurrent", type=int, default=None)
    parser.add_argument("--streams", type=int, default=100)
    parser.add_argument("--soak-first", type=int, default=None)
    parser.add_argument("--soak", type=int, default=None, help="0: skip the memory figure")
    parser.add_argument("--workers", default="1,2", help="worker counts to measure, e.g. 1,2")
    args = parser.parse_args()
    quick = args.quick
    args.sequential = args.sequential or (600 if quick else 3000)
    if args.agent is None:
        args.agent = 150 if quick else 600
    if args.agent < 0:
        parser.error(f"--agent must be 0 (skip) or a number of requests, not {args.agent}")
    args.concurrent = args.concurrent or (2000 if quick else 8000)
    args.soak_first = args.soak_first or (2000 if quick else 10000)
    if args.soak is None:
        args.soak = 20000 if quick else 100000

    with emulator_running() as emu_url:
        print(f"emulator at {emu_url}; pass-through {os.environ.get('LOREGATE_PASSTHROUGH', 'on')}")
        rates = {w: measure(emu_url, args, w) for w in (int(x) for x in args.workers.split(","))}
        if len(rates) > 1:
            print(
                "\nscaling: " + ", ".join(f"--workers {w}: {r:.0f} req/s" for w, r in rates.items())
            )


if __name__ == "__main__":
    main()
