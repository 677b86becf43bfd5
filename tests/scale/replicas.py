"""Two ``loregate serve`` processes on one Redis and one PostgreSQL, against the wire emulator
running as its own process (``loregate emulator``): the rig of the replica tests."""

from __future__ import annotations

import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from tests.conftest import _port_open
from tests.scale.conftest import spawn

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
REDIS_DB = "redis://127.0.0.1:6379/13"  # other suites flush 15: these replicas keep their own


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(
    url: str,
    proc: subprocess.Popen[bytes],
    log: Path,
    timeout: float = 90,
    any_answer: bool = False,
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url} exited: {log.read_text()[-3000:]}")
        try:
            code = httpx.get(url, timeout=2).status_code
            if code == 200 or (any_answer and code < 500):
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} not ready in {timeout} s: {log.read_text()[-3000:]}")


@dataclass
class Replicas:
    tmp: Path
    schema: str = field(default_factory=lambda: f"t_{uuid.uuid4().hex[:12]}")
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    emulator_url: str = ""

    @property
    def database_url(self) -> str:
        return f"{POSTGRES}?options=-csearch_path%3D{self.schema}"

    def env(self, name: str) -> dict[str, str]:
        return {
            "LOREGATE_HOME": str(self.tmp / name),
            "LOREGATE_DATABASE_URL": self.database_url,
            "LOREGATE_REDIS_URL": REDIS_DB,
            "ANTHROPIC_BASE_URL": self.emulator_url,
            "ANTHROPIC_API_KEY": "emulator-key",
        }

    def start(self, n: int = 2) -> None:
        admin = sa.create_engine(POSTGRES)
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{self.schema}"'))
        admin.dispose()
        port = free_port()
        log = self.tmp / "emulator.log"
        args = ["loregate", "emulator", "--port", str(port)]
        emu = spawn(args[0], {}, log, args=args[1:])
        self.procs.append(emu)
        self.emulator_url = f"http://127.0.0.1:{port}"
        self.migrate()
        for i in range(n):
            self.start_replica(f"r{i}")
        wait_ready(f"{self.emulator_url}/v1/models", emu, log, timeout=30, any_answer=True)
        for url, proc in zip(self.urls, self.procs[1:], strict=True):
            wait_ready(f"{url}/readyz", proc, self.tmp / f"{url.rsplit(':', 1)[1]}.log")

    def start_replica(self, name: str, port: int | None = None) -> subprocess.Popen[bytes]:
        port = port or free_port()
        log = self.tmp / f"{port}.log"
        proc = spawn("loregate", self.env(name), log, args=["serve", "--port", str(port)])
        self.procs.append(proc)
        url = f"http://127.0.0.1:{port}"
        if url not in self.urls:
            self.urls.append(url)
        return proc

    def migrate(self) -> None:
        from loregate.database import make_engine, migrate

        engine = make_engine(self.database_url)
        migrate(engine)
        engine.dispose()

    def engine(self) -> sa.Engine:
        return sa.create_engine(self.database_url)

    def stop(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        admin = sa.create_engine(POSTGRES)
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE'))
        admin.dispose()


@contextmanager
def running(tmp: Path, n: int) -> Iterator[Replicas]:
    """``n`` replicas on a fresh schema and an emptied Redis database (budget counters are
    keyed by budget id, and every new schema numbers its budgets from 1)."""
    if not (_port_open("127.0.0.1", 5432) and _port_open("127.0.0.1", 6379)):
        pytest.skip("PostgreSQL and Redis are needed (CI has them)")
    import redis

    client = redis.Redis.from_url(REDIS_DB)
    client.flushdb()
    rig = Replicas(tmp)
    try:
        rig.start(n)
        yield rig
    finally:
        rig.stop()
        client.flushdb()
        client.close()
