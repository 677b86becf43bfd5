"""Grants by admin API and CLI: a dry run of what a key sees, changes on the audit chain."""

from __future__ import annotations

import httpx

from loregate.cli.main import app as cli
from tests.graphs import GraphRunner
from tests.mcp.conftest import McpRig


def test_grants_by_admin_api_with_a_dry_run_and_audit(rig: McpRig) -> None:
    base = rig.url.removesuffix("/mcp")
    admin = {"x-api-key": rig.keys["admin"]}
    nora = rig.key_ids["nogrant"]
    with httpx.Client(base_url=base, headers=admin, timeout=60) as http:
        before = http.get("/admin/mcp/can-see", params={"key_id": nora}).json()["tools"]
        assert {t["server"] for t in before} == {"loregate"}
        body = {"scope": "key", "subject": nora, "server": "git", "tool": "git_log"}
        assert http.put("/admin/mcp/grants", json=body).status_code == 200
        after = http.get("/admin/mcp/can-see", params={"key_id": nora}).json()["tools"]
        assert [t["name"] for t in after if t["server"] == "git"] == ["git__git_log"]
        assert http.request("DELETE", "/admin/mcp/grants", json=body).status_code == 200
        again = http.request("DELETE", "/admin/mcp/grants", json=body)
        assert again.status_code == 404 and "no grant" in again.text
        bad = http.put("/admin/mcp/grants", json={**body, "scope": "team"})
        assert bad.status_code == 422
        servers = http.get("/admin/mcp/servers").json()["servers"]
        assert [(s["name"], s["transport"]) for s in servers] == [("git", "stdio")]
        employee = http.get("/admin/mcp/grants", headers={"x-api-key": rig.keys["legal"]})
        assert employee.status_code == 403
    changes = [
        e.record["action"]
        for e in rig.graph.governance_parts.audit.recent(100)
        if e.record.get("source") == "admin"
    ]
    assert changes[:2] == ["mcp.revoke", "mcp.grant"]


def test_grants_by_cli(rig: McpRig) -> None:
    runner = GraphRunner(rig.graph)
    nora = rig.key_ids["nogrant"]
    args = ["--scope", "key", "--name", nora, "--server", "git", "--tool", "git_status"]
    done = runner.invoke(cli, ["mcp", "grant", *args])
    assert done.exit_code == 0, done.output
    seen = runner.invoke(cli, ["mcp", "can-see", "--key", nora])
    assert "git__git_status" in seen.output and "git__git_log" not in seen.output
    listed = runner.invoke(cli, ["mcp", "tools", "--server", "git"])
    assert "git__git_commit" in listed.output and "write" in listed.output
    assert runner.invoke(cli, ["mcp", "revoke", *args]).exit_code == 0
    bad = runner.invoke(cli, ["mcp", "grant", "--scope", "team", "--name", "x", "--server", "git"])
    assert bad.exit_code == 1 and "unknown grant scope" in bad.output
