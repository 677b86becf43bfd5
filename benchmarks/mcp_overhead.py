"""What the MCP tool gateway adds over calling the same upstream directly (issue 15).

`mcp-server-git` (PyPI) on a temporary repository is the upstream. Direct: the official SDK's
client holds a stdio session to it and calls `git_status`. Through loregate: `loregate serve`
(SQLite, governance and audit on, the upstream declared in LOREGATE_MCP_SERVERS) fronts the
same server, and the same client calls `git__git_status` over streamable HTTP with a key whose
department holds a read grant. Calls alternate in blocks of 25 (the machine's drift hits both
alike); p50 and p99 of each, the difference, and the ratio.

    .venv/bin/python benchmarks/mcp_overhead.py [--calls 400]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx2
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gateway_overhead import free_port, pct, stop, wait_up

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


def git_repo(root: Path) -> Path:
    repo = root / "repo"
    repo.mkdir()
    for args in (
        ["init", "-q", "-b", "main"],
        ["config", "user.email", "bench@example.com"],
        ["config", "user.name", "bench"],
    ):
        subprocess.run(["git", *args], cwd=repo, check=True)
    (repo / "README.md").write_text("bench\n")
    subprocess.run(["git", "add", "README.md"], cwd=repo, check=True)
    subprocess.run(["git", "commit", "-q", "-m", "first"], cwd=repo, check=True)
    return repo


def loregate(env: dict[str, str], *args: str) -> str:
    out = subprocess.run(
        [PY, "-m", "loregate", *args], cwd=ROOT, env=env, check=True, capture_output=True
    )
    return out.stdout.decode().strip()


async def timed(client: Client, tool: str, args: dict[str, str], n: int, out: list[float]) -> None:
    for _ in range(n):
        t0 = time.perf_counter()
        result = await client.call_tool(tool, args)
        out.append((time.perf_counter() - t0) * 1000)
        if result.is_error:
            raise RuntimeError(f"{tool} failed: {result.content}")


async def measure(url: str, key: str, repo: Path, calls: int) -> tuple[list[float], list[float]]:
    server = StdioServerParameters(
        command=PY, args=["-m", "mcp_server_git", "--repository", str(repo)]
    )
    args = {"repo_path": str(repo)}
    direct: list[float] = []
    through: list[float] = []
    async with (
        Client(server) as d,
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=60) as http,
        Client(streamable_http_client(url, http_client=http)) as t,
    ):
        await timed(d, "git_status", args, 20, [])  # warm up sessions and imports
        await timed(t, "git__git_status", args, 20, [])
        for _ in range(0, calls, 25):
            await timed(d, "git_status", args, 25, direct)
            await timed(t, "git__git_status", args, 25, through)
    return direct, through


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--calls", type=int, default=400)
    a = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="loregate-mcp-bench-") as tmp:
        home = Path(tmp)
        repo = git_repo(home)
        servers = home / "mcp.toml"
        servers.write_text(
            f'[[servers]]\nname = "git"\ncommand = {PY!r}\n'
            f'args = ["-m", "mcp_server_git", "--repository", {str(repo)!r}]\n'
        )
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "LOREGATE_HOME": str(home / "home"),
            "LOREGATE_MCP_SERVERS": str(servers),
        }
        for var in ("LOREGATE_DATABASE_URL", "LOREGATE_REDIS_URL", "LOREGATE_CONFIG"):
            env.pop(var, None)
        loregate(env, "migrate")
        key = loregate(env, "keys", "create", "--user", "bench", "--department", "eng")
        loregate(env, "mcp", "grant", "--scope", "department", "--name", "eng", "--server", "git")
        port = free_port()
        proc = subprocess.Popen(
            [PY, "-m", "loregate", "serve", "--port", str(port), "--log-level", "error"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            wait_up(base, "/healthz", proc)
            direct, through = asyncio.run(measure(f"{base}/mcp", key, repo, a.calls))
        finally:
            stop(proc)
    for name, q in (("p50", 0.5), ("p99", 0.99)):
        d, t = pct(direct, q), pct(through, q)
        print(
            f"{name}: direct {d:7.2f} ms  through loregate {t:7.2f} ms  "
            f"added {t - d:+7.2f} ms  (x{t / d:.2f})"
        )
    print(f"{len(direct)} calls each way, git_status on mcp-server-git over stdio")


if __name__ == "__main__":
    main()
