"""What the request journal costs on the hot path (issue 18): the full app (`loregate serve`,
one worker, SQLite, governance on) with LOREGATE_JOURNAL=true and =false, in the same run,
against the wire emulator (zero delay) in its own process.

Prints p50/p99 one request at a time (alternating blocks of 50 with the emulator called
directly, as in gateway_overhead.py) and requests/s at 32 concurrent clients, with the journal
off, on with LOREGATE_JOURNAL_FSYNC=interval (the default: a write into the file per response,
an fdatasync a second) and on with =always (a group-committed fdatasync per response), and the
differences against off.

    .venv/bin/python benchmarks/journal_cost.py [--sequential 1000] [--concurrent 3000]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gateway_overhead import (
    admin_key,
    bench_env,
    concurrent,
    emulator_running,
    free_port,
    pct,
    sequential_pair,
    serve,
    stop,
    wait_up,
)


def run(fsync: str | None, emu_url: str, args: argparse.Namespace) -> tuple[float, float, float]:
    """``fsync``: the journal's ``LOREGATE_JOURNAL_FSYNC``, ``None`` for no journal."""
    journal = fsync is not None
    with tempfile.TemporaryDirectory(prefix="loregate-bench-") as tmp:
        env = {**bench_env(emu_url, Path(tmp)), "LOREGATE_JOURNAL": str(journal).lower()}
        if fsync is not None:
            env["LOREGATE_JOURNAL_FSYNC"] = fsync
        key = admin_key(env)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        proc = serve(port, env, workers=1)
        try:
            wait_up(url, "/v1/models", proc)
            _, through, _ = sequential_pair(emu_url, url, args.sequential, key)
            rps = asyncio.run(concurrent(url, args.concurrent, 32, "bench", key))
            segments = list((Path(tmp) / "journal").glob("*.jsonl"))
            print(
                f"journal {fsync or 'off':>8}: p50 {pct(through, 0.5):7.3f} ms  "
                f"p99 {pct(through, 0.99):7.3f} ms  32 clients {rps:6.0f} req/s"
                + (f"  ({len(segments)} live segment(s))" if journal else "")
            )
            return pct(through, 0.5), pct(through, 0.99), rps
        finally:
            stop(proc)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sequential", type=int, default=1000)
    parser.add_argument("--concurrent", type=int, default=3000)
    args = parser.parse_args()
    with emulator_running() as emu_url:
        off = run(None, emu_url, args)
        for fsync in ("interval", "always"):
            on = run(fsync, emu_url, args)
            print(
                f"journal cost ({fsync}): p50 {on[0] - off[0]:+.3f} ms, "
                f"p99 {on[1] - off[1]:+.3f} ms, throughput x{on[2] / off[2]:.2f}"
            )


if __name__ == "__main__":
    main()
