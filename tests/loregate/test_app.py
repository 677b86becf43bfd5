from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient

from kernel.errors import BudgetExceeded, RateLimited
from loregate.app import create_app
from loregate.settings import load_settings


def _client(**overrides: object) -> TestClient:
    return TestClient(create_app(load_settings(**overrides)))


def test_healthz(loregate_env: Path) -> None:
    with _client() as client:
        resp = client.get("/healthz")
    assert resp.status_code == 200
    assert resp.json()["status"] == "ok"
    assert resp.headers["x-request-id"]


def test_readyz_embedded_defaults_ready(loregate_env: Path) -> None:
    with _client() as client:
        resp = client.get("/readyz")
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["checks"]["database"]["ok"] is True
    assert "sqlite" in body["checks"]["database"]["detail"]
    assert body["checks"]["qdrant"]["ok"] is True


@pytest.mark.parametrize(
    ("overrides", "down"),
    [
        ({"redis_url": "redis://127.0.0.1:1/0"}, "redis"),
        ({"database_url": "postgresql://nobody@127.0.0.1:1/none"}, "database"),
        ({"qdrant_url": "http://127.0.0.1:1"}, "qdrant"),
    ],
)
def test_readyz_names_the_backend_that_is_down(
    loregate_env: Path, overrides: dict[str, str], down: str
) -> None:
    with _client(**overrides) as client:
        resp = client.get("/readyz")
    assert resp.status_code == 503
    checks = resp.json()["checks"]
    assert checks[down]["ok"] is False
    assert checks[down]["detail"]
    assert all(c["ok"] for name, c in checks.items() if name != down)


def test_error_shape(loregate_env: Path) -> None:
    app = create_app(load_settings())
    router = APIRouter()

    @router.get("/boom/budget")
    async def budget() -> None:
        raise BudgetExceeded(
            "department budget 'legal' (month) is spent", details={"budget": "legal"}
        )

    @router.get("/boom/rate")
    async def rate() -> None:
        raise RateLimited("too many requests", retry_after=7.2)

    @router.get("/boom/crash")
    async def crash() -> None:
        raise RuntimeError("secret internals")

    @router.get("/boom/typed")
    async def typed(n: int) -> int:
        return n

    app.include_router(router)
    with TestClient(app, raise_server_exceptions=False) as client:
        r = client.get("/boom/budget", headers={"x-request-id": "req-1"})
        assert r.status_code == 402
        assert r.json() == {
            "error": {
                "code": "budget_exceeded",
                "message": "department budget 'legal' (month) is spent",
                "details": {"budget": "legal"},
            },
            "request_id": "req-1",
        }
        r = client.get("/boom/rate")
        assert r.status_code == 429 and r.headers["retry-after"] == "7"
        assert r.json()["error"]["code"] == "rate_limited"
        r = client.get("/boom/crash")
        assert r.status_code == 500
        assert r.json()["error"]["code"] == "internal_error"
        assert "secret" not in r.text
        r = client.get("/boom/typed", params={"n": "x"})
        assert r.status_code == 422
        assert r.json()["error"]["code"] == "validation_error"
        assert "n" in r.json()["error"]["message"]
        r = client.get("/nope")
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"


def test_openapi_docs(loregate_env: Path) -> None:
    with _client() as client:
        assert client.get("/openapi.json").json()["info"]["title"] == "loregate"
        assert client.get("/docs").status_code == 200


def test_a_serving_process_is_tuned() -> None:
    """What ``loregate serve`` runs after start-up: start-up's objects frozen, the youngest
    generation's threshold raised (the older ones kept), a short switch interval."""
    import subprocess
    import sys

    code = (
        "import gc, sys\n"
        "from loregate.app import GC_YOUNG_THRESHOLD, tune_process\n"
        "before = gc.get_threshold()\n"
        "tune_process()\n"
        "after = gc.get_threshold()\n"
        "assert after == (GC_YOUNG_THRESHOLD, *before[1:]), (before, after)\n"
        "assert sys.getswitchinterval() < 0.001\n"
        "assert gc.get_freeze_count() > 0\n"
        "from loregate.app import HEAP_TRIM\n"
        "assert HEAP_TRIM.available and HEAP_TRIM._thread is not None\n"
        "assert HEAP_TRIM._thread.is_alive() and HEAP_TRIM._thread.daemon\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
