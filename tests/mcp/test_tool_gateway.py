"""The tool gateway in front of `mcp-server-git` (PyPI), driven by the official MCP client:
deny by default, read and write grants, refusals audited, the audit chain intact."""

from __future__ import annotations

import json
import subprocess

import pytest

from governance.audit_verify import verify
from tests.mcp.conftest import McpRig

pytestmark = pytest.mark.anyio
READS = {"git__git_status", "git__git_log", "git__git_diff_unstaged", "git__git_show"}


def _audit(rig: McpRig, source: str = "mcp") -> list[dict[str, object]]:
    assert rig.graph.governance.flush_writers(timeout=10)  # the writer is off the call's path
    audit = rig.graph.governance_parts.audit
    return [e.record for e in audit.recent(200) if e.record.get("source") == source]


def git_log(rig: McpRig) -> str:
    return subprocess.run(
        ["git", "log", "--format=%s"], cwd=rig.repo, capture_output=True, text=True, check=True
    ).stdout


def _text(result: object) -> str:
    return "".join(getattr(c, "text", "") for c in getattr(result, "content", []))


async def test_a_reader_lists_only_granted_read_tools_and_is_refused_a_commit(
    rig: McpRig,
) -> None:
    async with rig.client("reader") as client:
        names = {t.name for t in (await client.list_tools()).tools}
        assert names >= READS
        assert "git__git_commit" not in names and "git__git_add" not in names
        assert {"search_passages", "ask", "fetch_section"} <= names  # loregate's own
        status = await client.call_tool("git__git_status", {"repo_path": str(rig.repo)})
        assert not status.is_error and "Repository status" in _text(status)
        refused = await client.call_tool(
            "git__git_commit", {"repo_path": str(rig.repo), "message": "sneaky"}
        )
    assert refused.is_error and "not granted" in _text(refused)
    assert "sneaky" not in git_log(rig)
    [denied] = [r for r in _audit(rig) if r["outcome"] == "denied"]
    assert denied["tool"] == {"server": "git", "name": "git_commit", "kind": "read"}
    assert denied["principal"]["user"] == "rita"  # type: ignore[index]


async def test_a_writer_commits_and_a_key_without_grant_sees_no_upstream_tool(
    rig: McpRig,
) -> None:
    (rig.repo / "notes.md").write_text("from the writer\n")
    async with rig.client("writer", **{"X-Loregate-Request-Id": "req-model-1"}) as client:
        names = {t.name for t in (await client.list_tools()).tools}
        assert {"git__git_commit", "git__git_add"} <= names
        added = await client.call_tool(
            "git__git_add", {"repo_path": str(rig.repo), "files": ["notes.md"]}
        )
        assert not added.is_error, _text(added)
        done = await client.call_tool(
            "git__git_commit", {"repo_path": str(rig.repo), "message": "notes by walt"}
        )
        assert not done.is_error, _text(done)
    assert git_log(rig).splitlines()[0] == "notes by walt"
    commit = [
        r
        for r in _audit(rig)
        if r["tool"] == {"server": "git", "name": "git_commit", "kind": "write"}
    ]
    assert commit and commit[-1]["outcome"] == "ok"
    assert commit[-1]["linked_request_id"] == "req-model-1"
    async with rig.client("nogrant") as client:
        names = {t.name for t in (await client.list_tools()).tools}
        assert names == {"search_passages", "ask", "fetch_section"}
        refused = await client.call_tool("git__git_status", {"repo_path": str(rig.repo)})
        assert refused.is_error and "not granted" in _text(refused)


async def test_tool_arguments_are_redacted_on_disk_and_the_chain_verifies(rig: McpRig) -> None:
    email = "li.wei@example.com"
    async with rig.client("reader") as client:
        await client.call_tool(
            "git__git_log", {"repo_path": str(rig.repo), "max_count": 1, "author": email}
        )
    [record] = [r for r in _audit(rig) if "li.wei" in json.dumps(r) or "EMAIL" in json.dumps(r)]
    assert email not in json.dumps(record) and "<EMAIL_ADDRESS>" in json.dumps(record)
    db = rig.home / "loregate.db"
    assert email.encode() not in db.read_bytes()
    report = verify(rig.graph.governance_parts.audit)
    assert report.ok, report.problems
    metrics = rig.graph.governance_parts.metrics.registry
    assert (
        metrics.get_sample_value(
            "loregate_mcp_tool_calls_total",
            {"server": "git", "tool": "git_commit", "outcome": "denied"},
        )
        == 1.0
    )
