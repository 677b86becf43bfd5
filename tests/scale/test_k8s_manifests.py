"""deploy/k8s/ is valid against the Kubernetes schemas (offline: kubernetes-validate ships
them) and has the shape operating.md promises."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

K8S = Path(__file__).resolve().parents[2] / "deploy" / "k8s"
VERSION = "1.33.0"  # the oldest release we support; the newest is checked too


def resources() -> list[tuple[str, dict[str, Any]]]:
    out = []
    for path in sorted(K8S.glob("*.yaml")):
        out += [(path.name, doc) for doc in yaml.safe_load_all(path.read_text()) if doc]
    return out


@pytest.mark.parametrize("version", [VERSION, kubernetes_validate.latest_version()])
def test_every_manifest_is_valid(version: str) -> None:
    found = resources()
    assert len(found) >= 8
    for name, doc in found:
        kubernetes_validate.validate(doc, version, strict=True)  # raises, naming the field
        assert doc["metadata"]["name"].startswith("loregate"), name


def by_kind() -> dict[tuple[str, str], dict[str, Any]]:
    return {(d["kind"], d["metadata"]["name"]): d for _, d in resources()}


def test_probes_migrations_and_autoscaling() -> None:
    docs = by_kind()
    api = docs[("Deployment", "loregate-api")]["spec"]["template"]["spec"]["containers"][0]
    assert api["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert api["livenessProbe"]["httpGet"]["path"] == "/healthz"  # a DB outage restarts nothing
    job = docs[("Job", "loregate-migrate")]["spec"]["template"]["spec"]["containers"][0]
    assert job["command"] == ["loregate", "migrate"]
    worker = docs[("Deployment", "loregate-ingest-worker")]["spec"]["template"]["spec"]
    assert worker["containers"][0]["command"] == ["loregate", "ingest-worker"]
    hpa = docs[("HorizontalPodAutoscaler", "loregate-ingest-worker")]["spec"]
    assert hpa["scaleTargetRef"]["name"] == "loregate-ingest-worker"
    assert hpa["metrics"][0]["external"]["metric"]["selector"]["matchLabels"] == {
        "queue": "loregate-ingest"
    }
    config = docs[("ConfigMap", "loregate")]["data"]
    assert config["LOREGATE_INGEST_QUEUE_NAME"] == "loregate-ingest"
    for key in (
        "LOREGATE_QDRANT_SHARDS",
        "LOREGATE_QDRANT_REPLICATION",
        "LOREGATE_QDRANT_TENANT_KEY",
    ):
        assert key in config
