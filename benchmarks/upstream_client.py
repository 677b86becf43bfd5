"""The pass-through path's upstream client: loregate's HTTP/1.1 pool vs aiohttp's, one run.

Both POST the same Messages API body to the wire emulator (its own process, on uvloop like
``loregate serve``) from this process on uvloop, in alternating blocks so the machine's drift
hits both alike; prints per-request latency (p50/p99), this process's CPU per request, and
requests per second at 32 at once, each with the ratio to aiohttp's.

    .venv/bin/python benchmarks/upstream_client.py            # ~30 s
    .venv/bin/python benchmarks/upstream_client.py --quick    # ~10 s
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import orjson
import uvloop

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from gateway_overhead import emulator_running  # noqa: E402

from gateway.providers.http1_client import Http1Pool  # noqa: E402

BODY = orjson.dumps(
    {"model": "claude-haiku-4-5", "max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]}
)
HEADERS = {"content-type": "application/json", "x-api-key": "k", "anthropic-version": "2023-06-01"}
Post = Callable[[], Awaitable[bytes]]


def clients(url: str) -> tuple[dict[str, Post], Callable[[], Awaitable[None]]]:
    session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=256), skip_auto_headers=("User-Agent",)
    )
    pool = Http1Pool(url, headers=HEADERS, limit=256, connect_timeout_s=10.0, read_timeout_s=10.0)

    async def with_aiohttp() -> bytes:
        async with session.post(url + "/v1/messages", data=BODY, headers=HEADERS) as r:
            return await r.read()

    async def with_http1() -> bytes:
        response = await pool.post("/v1/messages", BODY)
        try:
            return await response.read()
        finally:
            response.release()

    async def close() -> None:
        await session.close()
        await pool.aclose()

    return {"aiohttp": with_aiohttp, "loregate http1": with_http1}, close


async def run(url: str, sequential: int, concurrent: int) -> None:
    posts, close = clients(url)
    times: dict[str, list[float]] = {name: [] for name in posts}
    cpu = dict.fromkeys(posts, 0.0)
    for post in posts.values():
        for _ in range(200):  # connections, caches
            assert b'"type":"message"' in await post()
    for _ in range(0, sequential, 100):
        for name, post in posts.items():
            c0 = time.process_time()
            for _ in range(100):
                t0 = time.perf_counter()
                await post()
                times[name].append((time.perf_counter() - t0) * 1000)
            cpu[name] += time.process_time() - c0
    rates: dict[str, float] = {}
    cpu32 = dict.fromkeys(posts, 0.0)
    for name, post in posts.items():
        left = concurrent

        async def worker(post: Post = post) -> None:
            nonlocal left
            while left > 0:
                left -= 1
                await post()

        t0, c0 = time.perf_counter(), time.process_time()
        await asyncio.gather(*(worker() for _ in range(32)))
        rates[name] = concurrent / (time.perf_counter() - t0)
        cpu32[name] = (time.process_time() - c0) / concurrent
    await close()
    base = "aiohttp"
    q = {n: statistics.quantiles(t, n=100) for n, t in times.items()}
    print(f"{'':>16} {'p50 ms':>8} {'p99 ms':>8} {'CPU us/req':>11} {'@32: CPU us/req':>16} req/s")
    for name in posts:
        per = cpu[name] / len(times[name]) * 1e6
        print(
            f"{name:>16} {q[name][49]:8.3f} {q[name][98]:8.3f} {per:11.0f} "
            f"{cpu32[name] * 1e6:16.0f} {rates[name]:5.0f}"
        )
    new = "loregate http1"
    print(
        f"ratios to {base}: p50 {q[new][49] / q[base][49]:.2f}, CPU per request "
        f"{cpu[new] / cpu[base]:.2f}; at 32: CPU per request {cpu32[new] / cpu32[base]:.2f}, "
        f"requests per second {rates[new] / rates[base]:.2f} (the emulator's limit)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    with emulator_running() as url:
        n = 1000 if args.quick else 5000
        uvloop.run(run(url, n, n))


if __name__ == "__main__":
    main()
