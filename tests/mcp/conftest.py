"""The MCP rig: loregate served on a loopback port (lifespan on: the MCP session manager runs),
two departments' documents, a git repository behind `mcp-server-git` (PyPI) as an upstream,
and keys: a legal and an HR employee, a git reader, a git writer and a key with no grant."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx2
import pytest
import uvicorn
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from gateway.usage import Usage
from loregate.app import create_app
from loregate.graph import Loregate
from testkit.embedders import FakeEmbedder
from testkit.scripted import Reply, ScriptedProvider
from tests.console.browser import free_port
from tests.graphs import build_graph, rig_settings

MSA = """# Master Services Agreement

## 4. Termination

4.3 Customer may terminate this Agreement for convenience on ninety (90) days' notice.
"""
HANDBOOK = """# Employee Handbook

## 2. Leave

2.1 Employees accrue twenty-five days of paid annual leave; termination pay is pro rata.
"""
MANIFEST = """defaults:
  access: public
rules:
  - match: "legal/**"
    department: legal
    access: ["dept:legal"]
  - match: "hr/**"
    department: hr
    access: ["dept:hr"]
"""
ANSWER = "Ninety (90) days' notice [1]."


@dataclass
class McpRig:
    url: str
    graph: Loregate
    keys: dict[str, str]
    key_ids: dict[str, str]
    repo: Path
    home: Path

    @asynccontextmanager
    async def client(self, who: str, **headers: str) -> AsyncIterator[Client]:
        auth = {"Authorization": f"Bearer {self.keys[who]}", **headers}
        async with (
            httpx2.AsyncClient(headers=auth) as http,
            Client(streamable_http_client(self.url, http_client=http)) as client,
        ):
            yield client


def _git_repo(root: Path) -> Path:
    repo = root / "repo"
    repo.mkdir()
    run = lambda *a: subprocess.run(["git", *a], cwd=repo, check=True, capture_output=True)  # noqa: E731
    run("init", "-q", "-b", "main")
    run("config", "user.email", "ci@example.com")
    run("config", "user.name", "CI")
    (repo / "README.md").write_text("hello\n")
    run("add", "README.md")
    run("commit", "-q", "-m", "first")
    return repo


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[McpRig]:
    root = tmp_path_factory.mktemp("mcp")
    corpus = root / "corpus"
    (corpus / "legal").mkdir(parents=True)
    (corpus / "hr").mkdir()
    (corpus / "legal" / "msa.md").write_text(MSA)
    (corpus / "hr" / "handbook.md").write_text(HANDBOOK)
    (root / "manifest.yaml").write_text(MANIFEST)
    repo = _git_repo(root)
    servers = root / "mcp.toml"
    servers.write_text(
        "[[servers]]\n"
        'name = "git"\n'
        f"command = {sys.executable!r}\n"
        f'args = ["-m", "mcp_server_git", "--repository", {str(repo)!r}]\n'
        "timeout_s = 20\n"
        "rpm_per_key = 1000\n"
    )
    port = free_port()
    provider = ScriptedProvider(
        "anthropic", default=Reply(text=ANSWER, usage=Usage(input_tokens=900, output_tokens=20))
    )
    graph = build_graph(
        rig_settings(
            home=root / "home", mcp_servers=servers, public_url=f"http://127.0.0.1:{port}"
        ),
        providers={"anthropic": provider},
        embedder=FakeEmbedder(dim=64),
    )
    report = graph.ingestor().ingest_path([corpus], manifest=root / "manifest.yaml")
    assert not report.failed
    store = graph.governance_parts.keys
    made = {
        "legal": store.create(user="lena", department="legal"),
        "hr": store.create(user="hugo", department="hr"),
        "reader": store.create(user="rita", department="eng"),
        "writer": store.create(user="walt", department="eng", project="release"),
        "nogrant": store.create(user="nora", department="sales"),
        "admin": store.create(user="ada", role="admin"),
    }
    grants = graph.governance_parts.grants
    assert grants is not None
    grants.grant("department", "eng", "git", by="test")  # every read tool of git
    grants.grant("project", "release", "git", write=True, by="test")
    app = create_app(graph=graph)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, name="mcp-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the test server did not start"
        time.sleep(0.05)
    try:
        yield McpRig(
            url=f"http://127.0.0.1:{port}/mcp",
            graph=graph,
            keys={k: v.key for k, v in made.items()},
            key_ids={k: v.record.id for k, v in made.items()},
            repo=repo,
            home=root / "home",
        )
    finally:
        server.should_exit = True
        thread.join(timeout=30)
