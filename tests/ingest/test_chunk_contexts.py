"""Contextual retrieval at ingestion against the wire emulator: Haiku through loregate's own
gateway writes each chunk's context, the document is read from the prompt cache after its
first call, every call is on the ledger under the ingest job, and nothing is written twice."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from gateway.ledger.tables import ledger as ledger_table
from ingest.chunk_contexts import JobTag, contexts_table
from kernel.errors import ConfigError
from loregate.graph import Loregate
from loregate.overrides import Overrides
from retrieval import schema
from retrieval.store.base import SearchFilter
from testkit.clock import ManualClock
from testkit.embedders import FakeEmbedder
from testkit.emulator import EmulatorServer
from tests.graphs import rig_settings

pytestmark = pytest.mark.wire
HAIKU = "claude-haiku-4-5"


def _section(company: str, n: int) -> str:
    body = " ".join(
        f"During period {n} the company {company} reported line item {n}-{k} of "
        f"{(n * 37 + k * 11) % 997} thousand dollars in segment {k % 5}."
        for k in range(24)
    )
    return f"## Section {n}: results of {company}\n\n{body}\n"


def _write_doc(folder: Path, name: str, company: str, sections: int = 12) -> Path:
    path = folder / f"{name}.md"
    text = f"# {company} quarterly report\n\n" + "\n".join(
        _section(company, n) for n in range(sections)
    )
    path.write_text(text, encoding="utf-8")
    return path


def _context_reply(body: dict[str, Any]) -> str:
    blocks = body["messages"][0]["content"]
    doc_title = blocks[0]["text"].split("\n")[1]
    return f"Zanzibar context: this passage is part of {doc_title}."


@pytest.fixture
def graph(emu: EmulatorServer, tmp_path: Path) -> Iterator[Loregate]:
    emu.set_responder(HAIKU, _context_reply)
    settings = rig_settings(
        home=tmp_path / "home",
        anthropic_api_key="test",
        anthropic_base_url=emu.base_url,
        chunk_context="model",
    )
    built = Loregate(
        settings,
        Overrides(
            providers={"openai": None, "local": None, "extractive": None},
            embedder=FakeEmbedder(),
            sleep=ManualClock().sleep,
        ),
    )
    built.migrate()
    yield built
    import asyncio

    asyncio.run(built.aclose())


def _context_calls(emu: EmulatorServer) -> int:
    return sum(1 for r in emu.requests if r.path == "/v1/messages")


def _ledger(graph: Loregate) -> list[Any]:
    graph.ledger_writer.flush()
    t = ledger_table.c
    with graph.engine.connect() as conn:
        query = sa.select(ledger_table).where(t.source == "ingest", t.kind == "attempt")
        return list(conn.execute(query.order_by(t.id)))


def test_each_document_is_paid_once_then_read_from_the_cache(
    graph: Loregate, emu: EmulatorServer, tmp_path: Path
) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    _write_doc(corpus, "acme-q1", "Acme Corp")
    _write_doc(corpus, "globex-q1", "Globex Inc")
    ingestor = graph.ingestor()
    report = ingestor.ingest_path([corpus], job=JobTag.of("job42", "alice"))
    assert report.ok, report.failed
    rows = _ledger(graph)
    assert len(rows) == report.chunks_written == _context_calls(emu)
    assert {r.tag for r in rows} == {"ingest:job42"} and {r.user_id for r in rows} == {"alice"}
    assert all(r.model_alias == HAIKU and r.outcome == "ok" and r.cost_nano_usd > 0 for r in rows)
    by_doc: dict[str, list[Any]] = {}
    for r in rows:
        by_doc.setdefault(r.request_id.rsplit("-", 2)[1], []).append(r)
    assert len(by_doc) == 2
    for calls in by_doc.values():
        first, rest = calls[0], calls[1:]
        assert first.cache_write_5m_tokens >= 4096 and first.cache_read_tokens == 0
        assert rest and all(
            r.cache_read_tokens == first.cache_write_5m_tokens and r.cache_write_5m_tokens == 0
            for r in rest
        )
        assert all(r.cost_nano_usd < first.cost_nano_usd / 3 for r in rest)

    # the context is stored and indexed with its chunk: a word only the contexts hold finds them
    store = graph.store(graph.settings.collection)
    chunks = store.retrieve(store.ids_for_doc(report.added[0]))
    assert chunks and all(
        c.payload[schema.CONTEXT].startswith("Zanzibar context")
        and "Zanzibar" not in c.payload[schema.TEXT]
        for c in chunks
    )
    found = store.search_sparse(
        graph.sparse.encode_query("Zanzibar"), SearchFilter(access_tokens=("public",)), 5
    )
    assert len(found) == 5

    # an unchanged corpus: no model call at all
    before = _context_calls(emu)
    again = ingestor.ingest_path([corpus], job=JobTag.of("job43", "alice"))
    assert again.ok and len(again.unchanged) == 2 and _context_calls(emu) == before


def test_a_changed_document_sends_only_its_changed_chunks(
    graph: Loregate, emu: EmulatorServer, tmp_path: Path
) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    path = _write_doc(corpus, "acme-q2", "Acme Corp")
    ingestor = graph.ingestor()
    first = ingestor.ingest_path([corpus])
    assert first.ok
    with graph.engine.connect() as conn:
        stored = conn.execute(sa.select(sa.func.count()).select_from(contexts_table)).scalar()
    assert stored == first.chunks_written
    before = _context_calls(emu)
    path.write_text(path.read_text() + "\n## Appendix\n\nA new closing remark.\n")
    second = ingestor.ingest_path([corpus])
    assert second.ok and second.updated
    sent = _context_calls(emu) - before
    assert 1 <= sent <= 2 < first.chunks_written  # the new chunk (and a re-split last one)


def test_a_failing_model_fails_the_document_and_the_next_run_finishes_it(
    graph: Loregate, emu: EmulatorServer, tmp_path: Path
) -> None:
    from testkit.faults import Fault

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    _write_doc(corpus, "acme-q3", "Acme Corp", sections=4)
    emu.faults.push(Fault.status(500), times=1_000)
    failed = graph.ingestor().ingest_path([corpus])
    assert [f.code for f in failed.failed] == ["context_error"]
    assert "context" in failed.failed[0].message and failed.chunks_written == 0
    emu.faults.clear()
    done = graph.ingestor().ingest_path([corpus])
    assert done.ok and done.chunks_written > 0


def test_model_contexts_without_a_reachable_model_are_refused(tmp_path: Path) -> None:
    graph = Loregate(
        rig_settings(home=tmp_path / "home", chunk_context="model"),
        Overrides(providers={"openai": None, "local": None}, embedder=FakeEmbedder()),
    )
    with pytest.raises(ConfigError, match="LOREGATE_CHUNK_CONTEXT=model"):
        graph.ingestor()


def test_an_api_job_writes_contexts_on_the_servers_loop_as_its_owner(
    emu: EmulatorServer, tmp_path: Path
) -> None:
    import time

    from fastapi.testclient import TestClient

    from kernel.auth import static_auth
    from kernel.principal import Principal, Role
    from loregate.app import create_app

    emu.set_responder(HAIKU, _context_reply)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    _write_doc(inbox, "initech-q4", "Initech Ltd", sections=8)
    owner = Principal(user_id="olga", role=Role.DOC_OWNER, department="finance")
    settings = rig_settings(
        home=tmp_path / "home",
        anthropic_api_key="test",
        anthropic_base_url=emu.base_url,
        chunk_context="model",
        ingest_roots=str(inbox),
    )
    graph = Loregate(
        settings,
        Overrides(
            providers={"openai": None, "local": None, "extractive": None},
            embedder=FakeEmbedder(),
            authenticate=static_auth(owner),
        ),
    )
    with TestClient(create_app(graph=graph)) as client:
        job_id = client.post("/v1/ingest/jobs", json={"paths": [str(inbox)]}).json()["job_id"]
        deadline = time.monotonic() + 60
        while (job := client.get(f"/v1/ingest/jobs/{job_id}").json())["status"] in (
            "queued",
            "running",
        ):
            assert time.monotonic() < deadline, job
            time.sleep(0.1)
        assert job["status"] == "succeeded", job
        rows = _ledger(graph)
    assert len(rows) == job["chunks"] == _context_calls(emu)
    assert {(r.tag, r.user_id, r.source) for r in rows} == {(f"ingest:{job_id}", "olga", "ingest")}
    assert sum(r.cache_read_tokens > 0 for r in rows) == len(rows) - 1


def test_contexts_another_worker_saved_meanwhile_are_kept(graph: Loregate) -> None:
    from ingest.chunk_contexts import ContextStore

    store = ContextStore(graph.engine, "race")
    store.save("doc", "w", {"h1": "theirs"})
    store.save("doc", "w", {"h1": "ours", "h2": "ours too"})  # h1 exists: no error
    assert store.get("doc", "w", ["h1", "h2"]) == {"h1": "theirs", "h2": "ours too"}
