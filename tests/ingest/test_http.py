"""The ingestion endpoints, through the app as a client sees them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kernel.auth import static_auth
from kernel.principal import Principal, Role
from loregate.graph import Loregate
from loregate.overrides import Overrides
from testkit.embedders import FakeEmbedder
from tests.ingest.helpers import write

ROOT = Path(__file__).resolve().parents[2]

# Import spaCy here, in the main thread: the app's PII-redactor warm-up thread imports it too,
# and two threads importing spaCy at once can see it half-initialised.
import spacy  # noqa: E402, F401
import unstructured.nlp.tokenize  # noqa: E402, F401


@pytest.fixture
def client(loregate_env: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    from loregate.app import create_app
    from loregate.settings import load_settings

    monkeypatch.setenv("LOREGATE_INGEST_ROOTS", str(ROOT / "demo") + ":" + str(loregate_env))
    owner = Principal(user_id="olga", role=Role.DOC_OWNER, department="legal")
    # the job runs inline in the request, so tests do not poll
    graph = Loregate(
        load_settings(),
        Overrides(
            embedder=FakeEmbedder(),
            authenticate=static_auth(owner),
            run_job=lambda body: body(),  # the job runs inline, before the 202 is sent
        ),
    )
    with TestClient(create_app(graph=graph)) as c:
        yield c


def test_job_runs_and_reports_progress(client: TestClient) -> None:
    body = {"paths": [str(ROOT / "demo/corpus")], "manifest": str(ROOT / "demo/manifest.yaml")}
    resp = client.post("/v1/ingest/jobs", json=body)
    assert resp.status_code == 202
    job_id = resp.json()["job_id"]
    job = client.get(f"/v1/ingest/jobs/{job_id}").json()
    assert job["status"] == "succeeded", job["errors"]
    assert job["counts"] == {"added": 13, "updated": 0, "unchanged": 0, "deleted": 0, "failed": 0}
    assert job["done_files"] == job["total_files"] == 10 and job["chunks"] > 13
    assert job["scope"] == "northwind" and job["index_version"] != "0"
    docs = client.get("/v1/documents", params={"source": "northwind"}).json()
    assert docs["count"] == 13
    again = client.post("/v1/ingest/jobs", json=body).json()["job_id"]
    assert client.get(f"/v1/ingest/jobs/{again}").json()["counts"]["unchanged"] == 13


def test_delete_document(client: TestClient) -> None:
    body = {"paths": [str(ROOT / "demo/corpus/handbook")]}
    client.post("/v1/ingest/jobs", json=body)
    resp = client.delete("/v1/documents/handbook:employee-handbook.pdf")
    assert resp.status_code == 200 and resp.json()["chunks_deleted"] > 0
    again = client.delete("/v1/documents/handbook:employee-handbook.pdf")
    assert again.status_code == 404 and again.json()["error"]["code"] == "document_not_found"


def test_job_with_failures_is_completed_with_errors(client: TestClient, loregate_env: Path) -> None:
    write(loregate_env / "inbox", "ok.md", "fine")
    write(loregate_env / "inbox", "empty.md", b"")
    job_id = client.post("/v1/ingest/jobs", json={"paths": [str(loregate_env / "inbox")]}).json()[
        "job_id"
    ]
    job = client.get(f"/v1/ingest/jobs/{job_id}").json()
    assert job["status"] == "completed_with_errors"
    assert job["errors"][0]["code"] == "empty_file" and job["errors"][0]["path"] == "empty.md"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"paths": ["/etc"]}, 400, "path_not_allowed"),
        ({"paths": [str(ROOT / "demo/nope")]}, 404, "source_not_found"),
        ({"paths": []}, 422, "validation_error"),
        ({"paths": ["x"], "frobnicate": True}, 422, "validation_error"),
    ],
)
def test_bad_requests(client: TestClient, body: dict[str, Any], status: int, code: str) -> None:
    resp = client.post("/v1/ingest/jobs", json=body)
    assert resp.status_code == status, resp.text
    assert resp.json()["error"]["code"] == code


def test_unknown_job(client: TestClient) -> None:
    resp = client.get("/v1/ingest/jobs/nope")
    assert resp.status_code == 404


def test_employees_may_not_ingest(loregate_env: Path) -> None:
    from loregate.app import create_app
    from loregate.settings import load_settings

    employee = Principal(user_id="eve", role=Role.EMPLOYEE)
    graph = Loregate(load_settings(), Overrides(authenticate=static_auth(employee)))
    with TestClient(create_app(graph=graph)) as c:
        resp = c.post("/v1/ingest/jobs", json={"paths": [str(loregate_env)]})
        assert resp.status_code == 403 and resp.json()["error"]["code"] == "forbidden"
        assert c.delete("/v1/documents/x").status_code == 403
