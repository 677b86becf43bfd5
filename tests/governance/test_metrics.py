"""Metrics: every family updated from real requests; /metrics merges worker processes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine

from gateway.types import ModelRequest, ModelResponse, Usage, Verdict
from governance.metrics import GovernanceMetrics, render
from testkit.faults import Fault
from testkit.scripted import Reply
from tests.governance.helpers import ALICE, GovRig

REQUEST = ModelRequest(model="default", messages=[{"role": "user", "content": "q"}])


def _samples(data: bytes) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(data.decode()):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def _weak_first(response: ModelResponse) -> Verdict:
    return Verdict(ok=response.model_id != "claude-haiku-4-5-20251001", reason="weak")


async def test_requests_update_every_family(sqlite_engine: Engine) -> None:
    rig = GovRig(sqlite_engine)
    assert rig.gateway is not None
    rig.budgets.set("department", "sales", period="month", hard_usd="10", soft_usd="5")
    rig.anthropic.push(
        Fault.status(529, retry_after=1),
        Reply(usage=Usage(input_tokens=100, output_tokens=10, cache_read_input_tokens=300)),
        Reply(usage=Usage(input_tokens=20, output_tokens=5)),
        Reply(usage=Usage(input_tokens=20, output_tokens=5)),
    )
    await rig.gateway.invoke(REQUEST, principal=ALICE)
    await rig.gateway.invoke(REQUEST, principal=ALICE, judge=_weak_first)
    rig.flush()  # spending is settled off the request's path
    data, content_type = render(rig.metrics)
    assert content_type.startswith("text/plain")
    s = _samples(data)
    route = ("route", "default")
    haiku = ("model", "claude-haiku-4-5")
    assert s[("loregate_requests_total", (haiku, ("outcome", "ok"), route))] == 1
    assert (
        s[("loregate_requests_total", (("model", "claude-sonnet-4-6"), ("outcome", "ok"), route))]
        == 1
    )
    assert s[("loregate_retries_total", (haiku, route))] == 1
    assert s[("loregate_escalations_total", (haiku, route))] == 1
    assert s[("loregate_tokens_total", (("kind", "cache_read"), haiku, route))] == 300
    assert s[("loregate_tokens_total", (("kind", "input"), haiku, route))] == 120
    assert s[("loregate_cache_hit_ratio", (route,))] == pytest.approx(300 / (300 + 120 + 20))
    cost = (100 * 1000 + 10 * 5000 + 300 * 100) + (20 * 1000 + 5 * 5000) + (20 * 3000 + 5 * 15000)
    assert s[("loregate_cost_usd_total", (("department", "sales"), ("project", "crm")))] == (
        pytest.approx(cost / 1e9)
    )
    assert s[("loregate_request_latency_seconds_count", (haiku, route))] == 1
    assert s[("loregate_budget_spent_usd", (("budget", "department:sales"),))] == pytest.approx(
        cost / 1e9
    )
    assert s[("loregate_circuit_state", (("breaker", "anthropic/claude-haiku-4-5"),))] == 0
    await rig.aclose()


async def test_soft_limit_raises_the_alert_and_downgrades(sqlite_engine: Engine) -> None:
    rig = GovRig(sqlite_engine)
    assert rig.gateway is not None
    rig.budgets.set("project", "crm", period="day", hard_usd="1", soft_usd="0.00003")
    first = await rig.gateway.invoke(REQUEST, principal=ALICE)  # 35,000 nano: past the soft limit
    assert first.route == "default"
    rig.flush()  # its spending settled (off the request's path)
    second = await rig.gateway.invoke(REQUEST, principal=ALICE)
    assert second.route == "economy" and second.requested_route == "default"
    assert second.downgraded_reason == "budget project:crm is past its soft limit"
    row = rig.ledger.requests()[-1]
    assert (row.route, row.requested_route) == ("economy", "default")
    reg = rig.metrics.registry
    assert reg.get_sample_value("loregate_budget_downgrades_total", {"budget": "project:crm"}) == 1
    assert reg.get_sample_value("loregate_budget_over_soft_limit", {"budget": "project:crm"}) == 1
    await rig.aclose()


WORKER = """
import sys
from governance.metrics import GovernanceMetrics
from kernel.principal import Principal
m = GovernanceMetrics()
for _ in range(int(sys.argv[1])):
    m.requests.labels("default", "claude-haiku-4-5", "ok").inc()
    m.tokens.labels("default", "claude-haiku-4-5", "input").inc(100)
    m.latency.labels("default", "claude-haiku-4-5").observe(0.2)
m.circuit.labels("anthropic/claude-haiku-4-5").set(2)
"""


def test_metrics_are_merged_across_worker_processes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    for n in ("3", "4"):
        subprocess.run([sys.executable, "-c", WORKER, n], check=True, env=env, timeout=60)
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    data, _ = render(GovernanceMetrics())
    s = _samples(data)
    labels = (("model", "claude-haiku-4-5"), ("route", "default"))
    assert s[("loregate_requests_total", (labels[0], ("outcome", "ok"), labels[1]))] == 7
    assert s[("loregate_request_latency_seconds_count", labels)] == 7
    assert s[("loregate_cache_hit_ratio", (("route", "default"),))] == 0
    circuit = [v for (name, _), v in s.items() if name == "loregate_circuit_state"]
    assert circuit == [2]
