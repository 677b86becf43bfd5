"""Fixtures of the multi-process tests: worker and server processes on the real services."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import _port_open

ROOT = Path(__file__).resolve().parents[2]
AMQP_URL = os.environ.get("LOREGATE_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")


@pytest.fixture
def amqp_queue() -> Iterator[tuple[str, str]]:
    """``(broker URL, a queue name of this test's own)``; the queue is deleted afterwards."""
    if not _port_open("127.0.0.1", 5672):
        pytest.skip("RabbitMQ is not running at 127.0.0.1:5672 (CI has it)")
    name = f"lg-test-{uuid.uuid4().hex[:10]}"
    yield AMQP_URL, name
    import pika

    conn = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
    channel = conn.channel()
    for queue in (name, f"{name}.DQ", f"{name}.XQ"):
        channel.queue_delete(queue)
    conn.close()


def spawn(
    module: str, env: dict[str, str], log: Path, args: list[str] | None = None
) -> subprocess.Popen[bytes]:
    """``python -m module *args`` from this tree, its output in ``log``."""
    full = {**os.environ, **env, "PYTHONPATH": str(ROOT)}
    for var in ("ANTHROPIC_BASE_URL", "ANTHROPIC_API_KEY", "OPENAI_BASE_URL", "OPENAI_API_KEY"):
        if var not in env:
            full.pop(var, None)
    command = [sys.executable, "-m", module, *(args or [])]
    with log.open("ab") as out:
        return subprocess.Popen(command, cwd=ROOT, env=full, stdout=out, stderr=subprocess.STDOUT)
