"""Queued ingestion jobs run by `loregate ingest-worker` (the scaled-out shape)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from kernel.auth import static_auth
from kernel.principal import Principal, Role
from testkit.embedders import FakeEmbedder

ROOT = Path(__file__).resolve().parents[2]

import spacy  # noqa: E402, F401  (main-thread import; see test_http.py)


def test_api_queues_and_a_worker_runs_each_job_once(
    loregate_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ingest.api import run_queued
    from loregate.app import create_app
    from loregate.graph import Loregate
    from loregate.overrides import Overrides
    from loregate.settings import load_settings

    monkeypatch.setenv("LOREGATE_INGEST_ROOTS", str(ROOT / "demo"))
    monkeypatch.setenv("LOREGATE_INGEST_QUEUE", "true")
    owner = Principal(user_id="olga", role=Role.DOC_OWNER, department="legal")
    graph = Loregate(
        load_settings(), Overrides(embedder=FakeEmbedder(), authenticate=static_auth(owner))
    )
    app = create_app(graph=graph)
    with TestClient(app) as client:
        body = {"paths": [str(ROOT / "demo/corpus")], "manifest": str(ROOT / "demo/manifest.yaml")}
        job_id = client.post("/v1/ingest/jobs", json=body).json()["job_id"]
        assert client.get(f"/v1/ingest/jobs/{job_id}").json()["status"] == "queued"

        assert run_queued(graph.ingestor(), graph.job_store) == job_id
        job = client.get(f"/v1/ingest/jobs/{job_id}").json()
        assert job["status"] == "succeeded", job["errors"]
        assert job["counts"]["added"] == 13
        assert (
            run_queued(graph.ingestor(), graph.job_store) is None
        )  # nothing left: the job ran exactly once

        second = client.post("/v1/ingest/jobs", json=body).json()["job_id"]
        store = graph.job_store
        first_claim, rival_claim = store.claim(), store.claim()
        assert first_claim is not None and first_claim.id == second
        assert first_claim.status == "running"
        assert rival_claim is None


def test_worker_command_runs_queued_jobs_once_and_exits(
    loregate_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from loregate.cli.main import app

    result = CliRunner().invoke(app, ["ingest-worker", "--once", "--poll-seconds", "0.1"])
    assert result.exit_code == 0, result.output
    assert "ingest worker on collection 'loregate'" in result.output
