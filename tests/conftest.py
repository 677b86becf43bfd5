"""Shared fixtures. Real model calls are never made: providers point at the local emulator."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from loregate.offline import configure_offline
from testkit.clock import ManualClock
from testkit.emulator import EmulatorServer

configure_offline()
# A test must never reach a real provider, whatever the developer's shell holds.
for _var in ("ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "OPENAI_API_KEY", "OPENAI_BASE_URL"):
    os.environ.pop(_var, None)

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"
REDIS_URL = os.environ.get("LOREGATE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _port_open(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


@pytest.fixture
def loregate_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A clean LOREGATE_HOME and no server URLs: the embedded defaults."""
    for var in list(os.environ):
        if var.startswith("LOREGATE_"):
            monkeypatch.delenv(var)
    monkeypatch.setenv("LOREGATE_HOME", str(tmp_path / "home"))
    from loregate.settings import get_settings

    get_settings.cache_clear()
    return tmp_path / "home"


@pytest.fixture
def redis_url() -> Iterator[str]:
    """Database 15 of the local Redis, flushed before and after."""
    if not _port_open("127.0.0.1", 6379):
        pytest.skip("Redis is not running at 127.0.0.1:6379 (CI has it)")
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    yield REDIS_URL
    client.flushdb()
    client.close()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh schema in the local PostgreSQL ``test`` database, dropped afterwards."""
    if not _port_open("127.0.0.1", 5432):
        pytest.skip("PostgreSQL is not running at 127.0.0.1:5432 (CI has it)")
    import sqlalchemy as sa

    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"public test data not found at {SHARED_DATA}")
    return SHARED_DATA


# The wire emulator: one per test module (starting a server costs ~50 ms), reset before every
# test, on a manual clock (prompt-cache TTLs never wait).
@pytest.fixture(scope="module")
def module_clock() -> ManualClock:
    return ManualClock()


@pytest.fixture(scope="module")
def module_emulator(module_clock: ManualClock) -> Iterator[EmulatorServer]:
    with EmulatorServer(clock=module_clock) as server:
        yield server


@pytest.fixture
def clock(module_clock: ManualClock) -> ManualClock:
    module_clock.set(1_000.0)
    return module_clock


@pytest.fixture
def emu(module_emulator: EmulatorServer, clock: ManualClock) -> EmulatorServer:
    module_emulator.reset()
    return module_emulator
