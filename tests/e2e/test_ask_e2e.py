"""End to end through HTTP, as a user would: ingest a small corpus, create keys, ask over
HTTP (Claude answered by the wire emulator), then check the cited source, the ledger row and
the audit record, and that an HR key never gets the Legal-only document."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from loregate.app import create_app
from loregate.graph import Loregate
from loregate.settings import load_settings
from testkit.emulator import EmulatorServer

pytestmark = [pytest.mark.e2e, pytest.mark.wire, pytest.mark.slow]

MANIFEST = """
rules:
  - match: "legal/**"
    doc_type: contract
    department: legal
    access: [dept:legal]
  - match: "handbook/**"
    doc_type: doc
    department: people
    access: public
"""
MSA = """# Master Services Agreement

## 4. Term and Termination

4.3 Termination for Convenience. Customer may terminate this Agreement for convenience on
ninety (90) days' prior written notice to Northwind.

## 12. Limitation of Liability

12.1 Each party's total liability is capped at the fees paid in the prior twelve months.
"""
HANDBOOK = """# Employee Handbook

## Office hours

The office opens at 8:00 and closes at 18:00 on working days.

## Expenses

Expenses above 1,000 EUR need the budget owner's approval before purchase.
"""
QUESTION = "How much notice is needed to terminate the agreement for convenience?"


@pytest.fixture
async def served(loregate_env: Path, tmp_path: Path) -> AsyncIterator[dict[str, Any]]:
    corpus = tmp_path / "corpus"
    (corpus / "legal").mkdir(parents=True)
    (corpus / "handbook").mkdir()
    (corpus / "legal" / "msa.md").write_text(MSA)
    (corpus / "handbook" / "handbook.md").write_text(HANDBOOK)
    manifest = tmp_path / "manifest.yaml"
    manifest.write_text(MANIFEST)
    with EmulatorServer() as emu:
        settings = load_settings(anthropic_api_key="emulated", anthropic_base_url=emu.base_url)
        graph = Loregate(settings)
        graph.migrate()
        report = graph.ingestor().ingest_path([corpus], manifest=manifest)
        assert not report.failed and len(report.added) == 2
        keys = graph.governance_parts.keys
        legal = keys.create(user="lena", department="legal").key
        hr = keys.create(user="hank", department="hr").key
        app = create_app(graph=graph)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://e2e") as client:
            yield {
                "client": client,
                "legal": legal,
                "hr": hr,
                "graph": graph,
                "engine": graph.engine,
            }
        await graph.aclose()  # flushes the ledger and the audit log


async def test_ask_over_http_cites_the_source_and_is_ledgered_and_audited(
    served: dict[str, Any],
) -> None:
    client: httpx.AsyncClient = served["client"]
    resp = await client.post(
        "/v1/ask", json={"question": QUESTION}, headers={"x-api-key": served["legal"]}
    )
    assert resp.status_code == 200, resp.text
    answer = resp.json()
    assert answer["confident"] is True, answer
    assert "ninety (90) days" in answer["answer"]
    cited = answer["citations"][0]
    assert cited["source"].endswith("legal/msa.md")
    assert "Term and Termination" in cited["section"]
    assert answer["model"] == "claude-haiku-4-5" and answer["cost_usd"] > 0

    hr = await client.post(
        "/v1/ask", json={"question": QUESTION}, headers={"x-api-key": served["hr"]}
    )
    assert hr.status_code == 200
    assert all(not p["source"].endswith("msa.md") for p in hr.json()["passages"])

    bad = await client.post("/v1/ask", json={"question": QUESTION}, headers={"x-api-key": "x"})
    assert bad.status_code == 401

    await served["graph"].aclose()
    engine = served["engine"]
    request_id = answer["request_id"]
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT kind, user_id, department, source, prompt_version, outcome, "
                "cost_nano_usd FROM gateway_ledger WHERE request_id = :r"
            ),
            {"r": request_id},
        ).all()
        audit = conn.execute(
            sa.text("SELECT payload FROM governance_audit_log WHERE request_id = :r"),
            {"r": request_id},
        ).all()
    request_rows = [r for r in rows if r.kind == "request"]
    assert len(request_rows) == 1
    row = request_rows[0]
    assert (row.user_id, row.department, row.source, row.outcome) == ("lena", "legal", "ask", "ok")
    assert row.prompt_version == answer["prompt_version"] and row.cost_nano_usd > 0
    assert len(audit) == 1
    record = json.loads(audit[0].payload)
    assert "lena" in json.dumps(record)
