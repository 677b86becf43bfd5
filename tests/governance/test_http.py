"""Governance through the HTTP app: 401/403, admin endpoints, 402/429 on the gateway endpoints,
usage, exports and /metrics (embedded defaults: SQLite and in-process limits)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from governance.audit_verify import verify
from loregate.app import create_app
from loregate.graph import Loregate
from loregate.settings import load_settings
from testkit.scripted import ScriptedProvider
from tests.graphs import build_graph


@dataclass
class Served:
    client: TestClient
    graph: Loregate
    admin: str
    alice: str
    provider: ScriptedProvider

    def flush(self) -> None:
        assert self.graph.ledger_writer.flush(timeout=30)
        governance = self.graph.governance
        assert governance.audit is not None
        assert governance.worker is not None and governance.worker.flush(timeout=30)
        assert governance.audit.flush(timeout=60)

    def h(self, key: str) -> dict[str, str]:
        return {"x-api-key": key}


def _graph(home: Path) -> tuple[Loregate, ScriptedProvider]:
    provider = ScriptedProvider("anthropic")
    return build_graph(load_settings(home=home), providers={"anthropic": provider}), provider


@pytest.fixture
def served(loregate_env: Path) -> Iterator[Served]:
    graph, provider = _graph(loregate_env)
    keys = graph.governance_parts.keys
    admin = keys.create(user="root", role="admin").key
    alice = keys.create(user="alice", department="sales", project="crm").key
    with TestClient(create_app(graph=graph)) as client:
        yield Served(client, graph, admin, alice, provider)


MESSAGE = {"model": "default", "max_tokens": 64, "messages": [{"role": "user", "content": "hi"}]}


def test_gateway_endpoints_need_a_key(served: Served) -> None:
    c = served.client
    r = c.post("/v1/messages", json=MESSAGE)
    assert r.status_code == 401 and r.json()["error"]["type"] == "authentication_error"
    r = c.post("/v1/messages", json=MESSAGE, headers={"x-api-key": "lg_nope"})
    assert r.status_code == 401
    ok = c.post("/v1/messages", json=MESSAGE, headers=served.h(served.alice))
    assert ok.status_code == 200 and ok.json()["content"][0]["text"] == "ok"
    bearer = c.post(
        "/v1/chat/completions",
        json={"model": "default", "messages": [{"role": "user", "content": "hi"}]},
        headers={"Authorization": f"Bearer {served.alice}"},
    )
    assert bearer.status_code == 200


def test_admin_endpoints_are_for_admins(served: Served) -> None:
    c = served.client
    assert c.get("/admin/keys").status_code == 401
    r = c.get("/admin/keys", headers=served.h(served.alice))
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    listed = c.get("/admin/keys", headers=served.h(served.admin)).json()["keys"]
    assert [k["user"] for k in listed] == ["root", "alice"]
    assert all(k["id"].startswith("lg_") and "key" not in k for k in listed)
    made = c.post(
        "/admin/keys",
        json={"user": "dora", "role": "doc_owner", "groups": ["legal"]},
        headers=served.h(served.admin),
    )
    assert made.status_code == 201
    new_key = made.json()["key"]
    assert c.get("/v1/usage", headers=served.h(new_key)).status_code == 200
    bad = c.post("/admin/keys", json={"user": "x", "role": "boss"}, headers=served.h(served.admin))
    assert bad.status_code == 422 and "role" in bad.json()["error"]["message"]
    revoked = c.post(f"/admin/keys/{made.json()['id']}/revoke", headers=served.h(served.admin))
    assert revoked.json()["revoked_at"] is not None
    assert c.get("/v1/usage", headers=served.h(new_key)).status_code == 401


def test_budget_exhaustion_is_402_naming_the_budget(served: Served) -> None:
    c, admin = served.client, served.h(served.admin)
    bad = c.put(
        "/admin/budgets/department/sales", json={"period": "month", "hard_usd": "x"}, headers=admin
    )
    assert bad.status_code == 400 and "not a dollar amount" in bad.json()["error"]["message"]
    r = c.put(
        "/admin/budgets/department/sales",
        json={"period": "month", "hard_usd": "0.0001"},
        headers=admin,
    )
    assert r.status_code == 200 and r.json()["hard_limit_usd"] == "0.0001"
    refused = c.post("/v1/messages", json=MESSAGE, headers=served.h(served.alice))
    assert refused.status_code == 402
    assert refused.json()["error"]["type"] == "billing_error"
    assert "budget department:sales" in refused.json()["error"]["message"]
    assert served.provider.calls == []
    [state] = c.get("/admin/budgets", headers=admin).json()["budgets"]
    assert (state["scope"], state["name"], state["spent_nano_usd"]) == ("department", "sales", 0)


def test_rate_limit_is_429_with_retry_after(served: Served) -> None:
    c = served.client
    r = c.put(
        "/admin/limits/department/sales",
        json={"requests_per_minute": 1},
        headers=served.h(served.admin),
    )
    assert r.status_code == 200
    assert c.post("/v1/messages", json=MESSAGE, headers=served.h(served.alice)).status_code == 200
    limited = c.post("/v1/messages", json=MESSAGE, headers=served.h(served.alice))
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    assert limited.json()["error"]["type"] == "rate_limit_error"


def test_usage_exports_prompts_audit_and_metrics(served: Served) -> None:
    c, admin, alice = served.client, served.h(served.admin), served.h(served.alice)
    for _ in range(2):
        assert c.post("/v1/messages", json=MESSAGE, headers=alice).status_code == 200
    assert c.post("/v1/messages", json=MESSAGE, headers=admin).status_code == 200
    served.flush()
    mine = c.get("/v1/usage", headers=alice).json()
    assert mine["requests"] == 2 and mine["scope"] == {"user": "alice"}
    assert mine["cost_nano_usd"] == 2 * 35_000
    assert c.get("/v1/usage?user=root", headers=alice).status_code == 403
    everyone = c.get("/v1/usage", headers=admin).json()
    assert everyone["requests"] == 3
    billing = c.get("/admin/exports/billing?group_by=user&format=csv", headers=admin)
    assert billing.headers["content-type"].startswith("text/csv")
    rows = {r["user"]: r for r in csv.DictReader(io.StringIO(billing.text))}
    assert int(rows["alice"]["cost_nano_usd"]) == 70_000 and rows["root"]["requests"] == "1"
    # in the company currency (USD here), rounded to its minor unit as an invoice line is
    assert (rows["alice"]["currency"], rows["alice"]["amount"]) == ("USD", "0.00")
    calls = c.get("/admin/exports/calls?format=jsonl&user=alice", headers=admin)
    assert [json.loads(x)["user_id"] for x in calls.text.splitlines()] == ["alice", "alice"]
    assert c.get("/admin/exports/billing?group_by=colour", headers=admin).status_code == 422
    assert c.get("/admin/exports/billing?from=junk", headers=admin).status_code == 400

    prompts = c.get("/admin/prompts", headers=admin).json()["prompts"]
    answer = next(p for p in prompts if p["prompt_id"] == "answer")
    version = answer["active"].split("@")[1]
    r = c.post("/admin/prompts/answer/activate", json={"version": version}, headers=admin)
    assert r.json() == {"active": f"answer@{version}"}
    assert c.post("/admin/prompts/answer/rollback", headers=admin).status_code == 400
    assert c.get("/admin/prompts/answer", headers=admin).json()["active"] is True

    metrics = c.get("/metrics")
    assert metrics.status_code == 200
    assert 'loregate_requests_total{model="claude-haiku-4-5",outcome="ok",route="default"} 3.0' in (
        metrics.text
    )
    served.flush()
    report = c.get("/admin/audit/verify", headers=admin).json()
    assert report["ok"] is True and report["records"] == 4  # 3 calls, 1 prompt activation
    record = c.get("/admin/audit/records/1", headers=admin).json()["record"]
    assert record["principal"]["user"] == "alice"
    change = c.get("/admin/audit/records/4", headers=admin).json()["record"]
    assert change["action"] == "prompt.activate" and change["target"] == f"answer@{version}"


def test_everything_is_flushed_on_shutdown(loregate_env: Path) -> None:
    graph, _ = _graph(loregate_env)
    key = graph.governance_parts.keys.create(user="eve", department="ops").key
    with TestClient(create_app(graph=graph)) as client:
        for _ in range(5):
            r = client.post("/v1/messages", json=MESSAGE, headers={"x-api-key": key})
            assert r.status_code == 200
    fresh = Loregate(load_settings(home=loregate_env))
    report = verify(fresh.governance_parts.audit)
    assert report.ok and report.records == 5


def test_governance_builds_while_the_database_is_down(loregate_env: Path) -> None:
    graph = Loregate(load_settings(database_url="postgresql://nobody@127.0.0.1:1/none"))
    create_app(graph=graph)  # every part built, every router mounted, nothing connected yet
    assert graph.governance.catalogue is graph.catalogue
