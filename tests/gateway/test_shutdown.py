"""A clean stop in the middle of load loses no ledger row: the whole app as `loregate serve`
builds it (governance on, a real API key), the SQLite ledger, the emulator upstream."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from gateway.ledger import ledger
from loregate.app import create_app
from loregate.database import make_engine
from loregate.graph import Loregate
from loregate.settings import load_settings
from testkit.emulator import EmulatorServer
from tests.gateway.servers import ServedApp
from tests.gateway.test_wire import WIRE_CONFIG

pytestmark = pytest.mark.wire


def test_stop_mid_load_keeps_every_ledger_row(
    loregate_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "wire.toml").write_text(WIRE_CONFIG)
    with EmulatorServer(latency_s=0.02) as emu:
        monkeypatch.setenv("ANTHROPIC_API_KEY", "test")
        monkeypatch.setenv("ANTHROPIC_BASE_URL", emu.base_url)
        monkeypatch.setenv("LOREGATE_CONFIG", str(tmp_path / "wire.toml"))
        settings = load_settings()
        graph = Loregate(settings)
        graph.migrate()
        key = graph.governance_parts.keys.create(user="loadtest", department="qa", role="admin").key
        served = ServedApp(create_app(graph=graph)).__enter__()
        answered: list[str] = []
        lock = threading.Lock()
        stop = threading.Event()
        failures: list[str] = []

        def client() -> None:
            with httpx.Client(base_url=served.url, timeout=10, headers={"x-api-key": key}) as http:
                while not stop.is_set():
                    try:
                        r = http.post(
                            "/v1/messages",
                            json={
                                "model": "default",
                                "max_tokens": 16,
                                "messages": [{"role": "user", "content": "hi"}],
                            },
                        )
                    except httpx.HTTPError:
                        return  # the server has stopped accepting
                    if r.status_code != 200:
                        failures.append(r.text)
                        return
                    with lock:
                        answered.append(r.headers["x-request-id"])

        threads = [threading.Thread(target=client) for _ in range(8)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 60
        while len(answered) < 40 and not failures and time.monotonic() < deadline:
            time.sleep(0.01)
        served.stop()  # graceful: in-flight requests finish, then the ledger is flushed
        stop.set()
        for t in threads:
            t.join(10)

    engine = make_engine(settings.resolved_database_url)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(ledger.c.request_id, ledger.c.outcome).where(
                ledger.c.kind == "request", ledger.c.user_id == "loadtest"
            )
        ).all()
    engine.dispose()
    assert not failures, failures[:1]
    assert len(answered) >= 40
    recorded = {rid for rid, outcome in rows if outcome == "ok"}
    assert set(answered) <= recorded
    assert len(rows) == len({rid for rid, _ in rows})  # one request row per request
