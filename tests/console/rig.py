"""The console's test rig: a migrated graph (SQLite in a temporary home) with real governance
and ledger, a scripted Anthropic provider, the fake embedder, a one-contract corpus ingested,
and one key per role."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import httpx
from fastapi import FastAPI
from starlette.routing import Mount

from console.services import ConsoleServices
from gateway.usage import Usage
from governance.redaction import NullRedactor
from kernel.principal import Role
from loregate.app import create_app
from loregate.graph import Loregate
from testkit.embedders import FakeEmbedder
from testkit.scripted import Reply, ScriptedProvider
from tests.graphs import build_graph, rig_settings

MSA = """# Master Services Agreement

## 4. Term and Termination

4.3 Termination for Convenience. Customer may terminate this Agreement for convenience on
ninety (90) days' prior written notice to Northwind.

## 12. Limitation of Liability

12.1 Each party's total liability is capped at the fees paid in the prior twelve months.
"""
NOTICE = "How much notice is needed to terminate for convenience?"
CAP = "What is the liability cap?"
ANSWER = "Ninety (90) days' prior written notice [1]."
WEAK = Reply(text="I cannot tell from these passages.")
ROLES = {
    "employee": Role.EMPLOYEE,
    "reviewer": Role.REVIEWER,
    "lead": Role.DEPT_LEAD,
    "admin": Role.ADMIN,
    "owner": Role.DOC_OWNER,
    "evaluator": Role.EVALUATOR,
}
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


class ConsoleRig:
    def __init__(self, root: Path) -> None:
        corpus = root / "corpus"
        corpus.mkdir(parents=True)
        (corpus / "msa.md").write_text(MSA)
        self.provider = ScriptedProvider(
            "anthropic",
            default=Reply(text=ANSWER, usage=Usage(input_tokens=1500, output_tokens=30)),
        )
        self.graph: Loregate = build_graph(
            rig_settings(home=root / "home", console_rollup_interval_s=3600.0),
            providers={"anthropic": self.provider},
            embedder=FakeEmbedder(dim=64),
            redactor=NullRedactor(),
        )
        report = self.graph.ingestor().ingest_path([corpus])
        assert not report.failed
        keys = self.graph.governance_parts.keys
        self.keys = {
            name: keys.create(user=name, department="legal", role=role).key
            for name, role in ROLES.items()
        }
        self.app: FastAPI = create_app(graph=self.graph)
        self.services = console_services_of(self.app)
        self.services.rollup.settle_s = 0.0  # a test's ledger rows are folded in at once

    def fold(self) -> None:
        """What the console's background refresher does every few seconds."""
        self.graph.ledger_writer.flush()
        self.services.rollup.refresh()

    def weak_answers(self) -> None:
        """The next ask gets weak answers from every tier (haiku, sonnet, opus): degraded."""
        self.provider.push(WEAK, WEAK, WEAK)

    def close(self) -> None:
        asyncio.run(self.graph.aclose())


def console_services_of(app: FastAPI) -> ConsoleServices:
    mount = next(r for r in app.routes if isinstance(r, Mount) and r.path == "/console")
    services = mount.app.state.services  # type: ignore[attr-defined]
    assert isinstance(services, ConsoleServices)
    return services


def client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://console.test")


async def sign_in(http: httpx.AsyncClient, key: str) -> str:
    """Signs ``http`` in; returns the session's CSRF token."""
    response = await http.post("/console/sign-in", data={"key": key})
    assert response.status_code == 303, response.text
    page = await http.get("/console/ask")
    found = CSRF.search(page.text)
    assert found, page.text
    return found.group(1)
