"""The MCP Inspector's CLI (npm, scripts/install_mcp_servers.sh) drives loregate's endpoint: a
reader key's tools/list holds its granted reads and not git_commit, a granted read runs, and the
Inspector cannot even call git_commit (absent from the list, it is "not found on server")."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.mcp.conftest import McpRig

INSPECTOR = ROOT / ".tools/mcp-servers/node_modules/.bin/mcp-inspector"
pytestmark = pytest.mark.skipif(
    not INSPECTOR.exists(), reason="run scripts/install_mcp_servers.sh (needs npm)"
)


def inspector(rig: McpRig, tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    run = subprocess.run(
        [
            str(INSPECTOR),
            "--cli",
            rig.url,
            "--transport",
            "http",
            "--header",
            f"Authorization: Bearer {rig.keys['reader']}",
            *args,
        ],
        env={**os.environ, "HOME": str(tmp), "MCP_CATALOG_PATH": str(tmp / "mcp.json")},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return run


def test_the_inspector_cli_lists_and_calls_through_loregate(rig: McpRig, tmp_path: Path) -> None:
    listed = inspector(rig, tmp_path, "--method", "tools/list")
    assert listed.returncode == 0, listed.stderr[-2000:]
    names = {t["name"] for t in json.loads(listed.stdout)["tools"]}
    assert "git__git_status" in names and "git__git_commit" not in names
    status = inspector(
        rig,
        tmp_path,
        "--method",
        "tools/call",
        "--tool-name",
        "git__git_status",
        "--tool-arg",
        f"repo_path={rig.repo}",
    )
    assert status.returncode == 0 and "Repository status" in status.stdout
    refused = inspector(
        rig,
        tmp_path,
        "--method",
        "tools/call",
        "--tool-name",
        "git__git_commit",
        "--tool-arg",
        f"repo_path={rig.repo}",
        "message=nope",
    )
    assert refused.returncode != 0 and "not found on server" in refused.stderr
