"""The object graph: built once at start-up, off the request path; overrides replace parts."""

from __future__ import annotations

import multiprocessing
import sys
import threading
import time
from pathlib import Path
from types import FrameType
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient

from console.rollup import UsageRollup
from console.tables import usage_facets
from gateway.hooks import NoGovernance
from gateway.ledger import MemoryLedger
from governance.keys import KeyStore
from governance.redaction import NullRedactor
from ingest.documents import ParsedDocument
from loregate.app import create_app
from loregate.database import migrate
from loregate.graph import Loregate
from loregate.overrides import Overrides
from loregate.settings import load_settings
from testkit.embedders import FakeEmbedder
from testkit.emulator import EmulatorServer
from testkit.scripted import ScriptedProvider
from tests.graphs import rig_graph

ROOT = Path(__file__).resolve().parents[2] / "loregate"
HELLO = {"model": "default", "max_tokens": 32, "messages": [{"role": "user", "content": "hi"}]}
MSA = ParsedDocument(
    doc_id="msa",
    title="Master Services Agreement",
    text="Either party may terminate this Agreement for convenience on ninety days notice.",
)


class CodeRun:
    """The source file of every Python function called while ``recording`` is set, in this
    thread and in every thread started inside (the app's event loop and its workers)."""

    def __init__(self) -> None:
        self.files: set[str] = set()
        self.recording = threading.Event()

    def _profile(self, frame: FrameType, event: str, _arg: Any) -> None:
        if event == "call" and self.recording.is_set():
            self.files.add(frame.f_code.co_filename)

    def __enter__(self) -> CodeRun:
        threading.setprofile(self._profile)
        sys.setprofile(self._profile)
        return self

    def __exit__(self, *_exc: object) -> None:
        sys.setprofile(None)
        threading.setprofile(None)  # type: ignore[arg-type]


def test_a_request_runs_no_code_of_the_composition_root(loregate_env: Path) -> None:
    """The app builds the graph (providers included) at start-up; a request goes from the
    routers straight into concrete services, never into ``loregate/``."""
    with EmulatorServer() as emu:
        settings = load_settings(anthropic_api_key="emulated", anthropic_base_url=emu.base_url)
        graph = Loregate(settings, Overrides(embedder=FakeEmbedder(dim=64)))
        graph.migrate()
        graph.ingestor().ingest_documents([MSA], scope="test")
        key = graph.governance_parts.keys.create(user="lena", department="legal").key
        with CodeRun() as run, TestClient(create_app(graph=graph)) as client:
            run.recording.set()
            asked = client.post(
                "/v1/ask",
                json={"question": "How much notice to terminate for convenience?"},
                headers={"x-api-key": key},
            )
            called = client.post("/v1/messages", json=HELLO, headers={"x-api-key": key})
            run.recording.clear()
    assert asked.status_code == 200 and asked.json()["citations"], asked.text
    assert called.status_code == 200, called.text
    files = run.files
    assert any(f.endswith("retrieval/answer.py") for f in files)  # the profile saw the ask
    assert any(f.endswith("gateway/service.py") for f in files)
    assert sorted(f for f in files if Path(f).is_relative_to(ROOT)) == []


async def test_a_callers_engine_serves_every_part_and_outlives_the_graph() -> None:
    """``Overrides(engine=...)``: the graph writes through the caller's engine and, closed,
    leaves it open (an in-memory database would vanish with its one connection)."""
    engine = sa.create_engine("sqlite://", poolclass=sa.StaticPool)
    migrate(engine)
    graph = rig_graph(
        {"anthropic": ScriptedProvider("anthropic")},
        engine=engine,
        redactor=NullRedactor(),
        hooks=NoGovernance(),
        ledger=MemoryLedger(),
    )
    graph.governance_parts.keys.create(user="lena")
    await graph.aclose()
    assert [k.user_id for k in KeyStore(engine).list_keys()] == ["lena"]
    engine.dispose()


def test_with_worker_processes_the_ledger_is_written_by_its_child(loregate_env: Path) -> None:
    """``LOREGATE_AUDIT_PROCESS`` (what ``loregate serve`` turns on): the app starts the
    ledger's insert process at start-up and a request's rows reach the database through it."""
    with EmulatorServer() as emu:
        settings = load_settings(
            anthropic_api_key="emulated", anthropic_base_url=emu.base_url, audit_process=True
        )
        graph = Loregate(settings, Overrides(embedder=FakeEmbedder(dim=64)))
        graph.migrate()
        key = graph.governance_parts.keys.create(user="lena", department="legal").key
        with TestClient(create_app(graph=graph, serving=True)) as client:
            inserts = graph.ledger_writer.inserts
            assert inserts is not None and inserts.child.pid is not None  # started at start-up
            called = client.post("/v1/messages", json=HELLO, headers={"x-api-key": key})
            assert called.status_code == 200, called.text
            assert graph.ledger_writer.flush(timeout=60)
            assert graph.ledger_writer.written == 2  # the request's row and its attempt's
        with graph.engine.connect() as conn:
            kinds = conn.execute(sa.text("SELECT kind FROM gateway_ledger ORDER BY step")).all()
    assert [k for (k,) in kinds] == ["request", "attempt"]


def test_with_worker_processes_the_console_rollup_is_folded_by_its_child(
    loregate_env: Path,
) -> None:
    """``LOREGATE_AUDIT_PROCESS``: the console's refresher starts its rollup child with the app
    and a request's ledger rows are folded into the usage facets through it."""
    with EmulatorServer() as emu:
        settings = load_settings(
            anthropic_api_key="emulated",
            anthropic_base_url=emu.base_url,
            audit_process=True,
            console_rollup_interval_s=0.2,
        )
        graph = Loregate(settings, Overrides(embedder=FakeEmbedder(dim=64)))
        graph.migrate()
        key = graph.governance_parts.keys.create(user="lena", department="legal").key
        with TestClient(create_app(graph=graph, serving=True)) as client:
            assert "loregate-rollup" in {p.name for p in multiprocessing.active_children()}
            called = client.post("/v1/messages", json=HELLO, headers={"x-api-key": key})
            assert called.status_code == 200, called.text
            assert graph.ledger_writer.flush(timeout=60)
            rollup = UsageRollup(graph.engine)
            deadline = time.monotonic() + 30  # rows wait out the rollup's 2 s settling first
            while rollup.backlog() and time.monotonic() < deadline:
                time.sleep(0.2)
            assert rollup.backlog() == 0
        with graph.engine.connect() as conn:
            facets = sa.select(usage_facets.c.requests).where(
                usage_facets.c.scope == "department:legal", usage_facets.c.dim == "user"
            )
            assert conn.execute(facets).scalars().all() == [1]
