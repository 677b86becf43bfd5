"""Claude Code (npm, scripts/install_claude_code.sh) configured with loregate as an HTTP MCP
server: `claude mcp add` then `claude mcp list` connects with a loregate key, and a wrong key
is reported as failing (never silently connected)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.gateway.test_claude_code import CLAUDE, QUIET
from tests.mcp.conftest import McpRig

pytestmark = pytest.mark.skipif(
    not os.access(CLAUDE, os.X_OK),
    reason=f"Claude Code CLI not found at {CLAUDE}: run scripts/install_claude_code.sh",
)


def claude(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp / "home"),
        "CLAUDE_CONFIG_DIR": str(tmp / "claude-config"),
        **QUIET,
    }
    (tmp / "work").mkdir(exist_ok=True)
    return subprocess.run(
        [str(CLAUDE), "mcp", *args],
        env=env,
        cwd=tmp / "work",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_claude_code_lists_loregate_as_a_connected_mcp_server(rig: McpRig, tmp_path: Path) -> None:
    bearer = f"Authorization: Bearer {rig.keys['legal']}"
    added = claude(tmp_path, "add", "--transport", "http", "loregate", rig.url, "--header", bearer)
    assert added.returncode == 0, added.stderr
    wrong = claude(
        tmp_path,
        "add",
        "--transport",
        "http",
        "wrongkey",
        rig.url,
        "--header",
        "Authorization: Bearer lg_nope_0000000000000000",
    )
    assert wrong.returncode == 0, wrong.stderr
    listed = claude(tmp_path, "list")
    assert listed.returncode == 0, listed.stderr
    lines = {line.split(":")[0]: line for line in listed.stdout.splitlines() if ":" in line}
    assert "Connected" in lines["loregate"], listed.stdout
    assert "Connected" not in lines["wrongkey"], listed.stdout
