"""``LOREGATE_EMBEDDINGS_URL`` against a real OpenAI-compatible embeddings server: infinity-emb
(PyPI, its own venv from scripts/install_embeddings_server.sh) serving the bundled model's
files. The vectors match the in-process model's, ingestion and search run on them, a changed
model gets an index of its own, and a wrong model or a dead server is a clear error."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest

from kernel.principal import Principal
from loregate.graph import Loregate
from loregate.overrides import Overrides
from retrieval import index_version
from retrieval.embedder import Embedder, EmbedderError, default_model_path
from retrieval.remote_embedder import RemoteEmbedder
from retrieval.search import HybridSearcher
from retrieval.store.base import SearchFilter
from tests.graphs import rig_settings

ROOT = Path(__file__).resolve().parents[2]
INFINITY = ROOT / ".tools" / "infinity" / "bin" / "infinity_emb"
SERVED = "all-MiniLM-L6-v2"
TEXTS = [
    "Either party may terminate this Agreement for convenience on ninety days' notice.",
    "Reset your password from the sign-in page.",
    "Quarterly revenue grew 34% year over year.",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not INFINITY.exists() or not list(INFINITY.parents[1].glob(".installed-*")):
        pytest.skip("infinity-emb is not installed (scripts/install_embeddings_server.sh)")
    port = _free_port()
    log = tmp_path_factory.mktemp("infinity") / "server.log"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "DO_NOT_TRACK": "1"}
    env["INFINITY_ANONYMOUS_USAGE_STATS"] = "0"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(INFINITY), "v2", "--model-id", str(default_model_path()), "--served-model-name",
             SERVED, "--port", str(port), "--host", "127.0.0.1", "--engine", "torch",
             "--device", "cpu", "--url-prefix", "/v1"],
            stdout=out, stderr=subprocess.STDOUT, env=env,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"infinity did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.5)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_the_servers_vectors_are_the_bundled_models(server_url: str) -> None:
    remote = RemoteEmbedder(server_url, SERVED)
    try:
        got = remote.embed_documents(TEXTS)
        assert got.shape == (3, 384) == (3, remote.dim)
        assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
        local = Embedder().embed_documents(TEXTS)
        assert float(np.min(np.sum(got * local, axis=1))) > 0.999
        assert remote.count_tokens(TEXTS[0]) == Embedder().count_tokens(TEXTS[0])
        assert remote.config_id == "openai-embeddings:all-MiniLM-L6-v2:normalized"
    finally:
        remote.close()


def test_ingest_and_search_through_the_server_in_an_index_of_its_own(
    server_url: str, tmp_path: Path
) -> None:
    import asyncio

    def graph(**settings: object) -> Loregate:
        built = Loregate(
            rig_settings(home=tmp_path / "home", **settings),
            Overrides(providers={"anthropic": None, "openai": None, "local": None}),
        )
        built.migrate()
        return built

    remote = graph(embeddings_url=server_url, embedding_model=SERVED)
    try:
        index = remote.index_name()
        assert index.startswith("loregate--all-MiniLM-L6-v2-") and index != "loregate"
        report = remote.ingestor().ingest_path(
            [ROOT / "demo/corpus/handbook"], manifest=ROOT / "demo/manifest.yaml"
        )
        assert report.ok and report.chunks_written > 0
        searcher = HybridSearcher(remote.store(), remote.embedder, remote.sparse)
        everyone = SearchFilter(access_tokens=tuple(Principal(user_id="e").access_tokens()))
        hits = searcher.search("how many days of annual leave", everyone, top_k=3)
        assert hits and "handbook" in hits[0].payload["doc_id"]
        assert index_version.current(remote.engine, index) != index_version.NEVER_INGESTED
        # the bundled model's index is another one: untouched, never mixed with these vectors
        assert index_version.current(remote.engine, "loregate") == index_version.NEVER_INGESTED
    finally:
        asyncio.run(remote.aclose())
    other = graph(embeddings_url=server_url, embedding_model="another-model")
    try:
        assert other.index_name() not in (index, "loregate")
        assert index_version.current(other.engine, other.index_name()) == "0"
    finally:
        asyncio.run(other.aclose())


def test_a_wrong_url_or_a_dead_server_is_a_clear_error(server_url: str) -> None:
    # the base URL without the /v1 the server is mounted at: its 404, named
    wrong = RemoteEmbedder(server_url.removesuffix("/v1"), SERVED, attempts=1)
    dead = RemoteEmbedder(f"http://127.0.0.1:{_free_port()}/v1", SERVED, attempts=2)
    try:
        with pytest.raises(EmbedderError, match=r"LOREGATE_EMBEDDINGS_URL: .* answered 404"):
            wrong.embed_documents(["x"])
        with pytest.raises(EmbedderError, match="did not answer"):
            dead.embed_query("x")
    finally:
        wrong.close()
        dead.close()
    with pytest.raises(EmbedderError, match="LOREGATE_EMBEDDING_MODEL"):
        RemoteEmbedder(server_url, "")
