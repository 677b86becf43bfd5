"""Claude Code, unchanged, against loregate: the real ``claude -p`` -> loregate -> the emulator.

The whole app as ``loregate serve`` builds it (governance on, a real API key, the SQLite
ledger) on 127.0.0.1; its Anthropic upstream is the wire emulator. Claude Code runs in print
mode with its own config directory, no telemetry or other non-essential traffic, and the
model env vars docs/gateway.md recommends.

Needs the CLI: ``scripts/install_claude_code.sh`` installs the pinned version into
``.tools/claude-code`` (``CLAUDE_CODE_BIN`` names another binary; the assertions are written
for the pinned version). Skipped without it.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from gateway.ledger import ledger
from loregate.app import create_app
from loregate.database import make_engine
from loregate.graph import Loregate
from loregate.settings import Settings, load_settings
from testkit.emulator import EmulatorServer
from tests.gateway.servers import ServedApp

ROOT = Path(__file__).resolve().parents[2]
CLAUDE = Path(
    os.environ.get("CLAUDE_CODE_BIN")
    or ROOT / ".tools" / "claude-code" / "node_modules" / ".bin" / "claude"
)
CLAUDE_VERSION = "2.1.332"  # scripts/install_claude_code.sh pins the same

pytestmark = [
    pytest.mark.wire,
    pytest.mark.skipif(
        not os.access(CLAUDE, os.X_OK),
        reason=f"Claude Code CLI not found at {CLAUDE}: run scripts/install_claude_code.sh",
    ),
]

# What docs/gateway.md tells Claude Code users to set: the gateway, a loregate key, no
# telemetry, error reports, auto-update or other non-essential traffic, and Claude Code's model
# aliases mapped onto loregate's (its own defaults are model ids loregate's config lacks).
QUIET = {
    "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
    "DISABLE_AUTOUPDATER": "1",
    "DISABLE_TELEMETRY": "1",
    "DISABLE_ERROR_REPORTING": "1",
}
ALIASES = {
    "ANTHROPIC_DEFAULT_OPUS_MODEL": "claude-opus-4-8",
    "ANTHROPIC_DEFAULT_SONNET_MODEL": "claude-sonnet-4-6",
    "ANTHROPIC_DEFAULT_HAIKU_MODEL": "claude-haiku-4-5",
}


class Inbound:
    """ASGI middleware: what reached loregate on /v1/* and the response headers it sent."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.calls: list[tuple[str, dict[str, str], dict[str, str]]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/v1/"):
            await self.app(scope, receive, send)
            return
        request = {bytes(k).decode().lower(): bytes(v).decode() for k, v in scope["headers"]}
        response: dict[str, str] = {":status": ""}
        self.calls.append((scope["path"], request, response))

        async def recording_send(message: Any) -> None:
            if message["type"] == "http.response.start":
                response[":status"] = str(message["status"])
                response.update(
                    {bytes(k).decode().lower(): bytes(v).decode() for k, v in message["headers"]}
                )
            await send(message)

        await self.app(scope, receive, recording_send)


@dataclass
class Run:
    returncode: int
    stderr: str
    lines: list[dict[str, Any]]

    @property
    def result(self) -> dict[str, Any]:
        results = [line for line in self.lines if line.get("type") == "result"]
        assert results, f"no result line; stderr: {self.stderr[-2000:]}"
        return results[-1]

    def tool_calls(self) -> list[dict[str, Any]]:
        return [
            block
            for line in self.lines
            if line.get("type") == "assistant"
            for block in line["message"]["content"]
            if block.get("type") == "tool_use"
        ]


@dataclass
class Gate:
    emu: EmulatorServer
    settings: Settings
    served: ServedApp
    inbound: Inbound
    key: str
    tmp: Path
    work: Path = field(init=False)

    def __post_init__(self) -> None:
        self.work = self.tmp / "project"
        self.work.mkdir()

    def claude(
        self,
        prompt: str,
        *,
        env: dict[str, str],
        args: tuple[str, ...] = (),
        key_var: str = "ANTHROPIC_API_KEY",
    ) -> Run:
        """``claude -p`` with only these variables (never the developer's ~/.claude or keys)."""
        full_env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.tmp / "home"),
            "CLAUDE_CONFIG_DIR": str(self.tmp / "claude-config"),
            "ANTHROPIC_BASE_URL": self.served.url,
            key_var: self.key,
            **QUIET,
            **env,
        }
        cmd = [str(CLAUDE), "-p", prompt, "--output-format", "stream-json", "--verbose", *args]
        proc = subprocess.run(
            cmd,
            env=full_env,
            cwd=self.work,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        lines = [json.loads(x) for x in proc.stdout.splitlines() if x.startswith("{")]
        return Run(proc.returncode, proc.stderr, lines)

    def upstream(self) -> list[dict[str, Any]]:
        return [r.json or {} for r in self.emu.requests if r.path == "/v1/messages"]

    def ledger_requests(self) -> list[dict[str, Any]]:
        """The ledger's request rows, after a clean stop (the batch writer flushes then)."""
        self.served.stop()
        engine = make_engine(self.settings.resolved_database_url)
        try:
            with engine.connect() as conn:
                rows = conn.execute(
                    sa.select(ledger)
                    .where(ledger.c.kind == "request")
                    .order_by(ledger.c.created_at, ledger.c.id)
                ).mappings()
                return [dict(row) for row in rows]
        finally:
            engine.dispose()


@pytest.fixture
def gate(
    emu: EmulatorServer, loregate_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Gate]:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "emulator-key")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", emu.base_url)
    settings = load_settings()
    graph = Loregate(settings)
    graph.migrate()
    key = graph.governance_parts.keys.create(user="cc-dev", department="eng", role="employee").key
    app = create_app(graph=graph)
    inbound = Inbound(app)
    with ServedApp(inbound) as served:  # type: ignore[arg-type]
        yield Gate(emu, settings, served, inbound, key, tmp_path)


def test_the_pinned_cli_is_installed() -> None:
    out = subprocess.run([str(CLAUDE), "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.split()[0] == CLAUDE_VERSION


@pytest.mark.parametrize(
    ("key_var", "key_header"),
    [("ANTHROPIC_API_KEY", "x-api-key"), ("ANTHROPIC_AUTH_TOKEN", "authorization")],
)
def test_print_mode_streams_through_loregate_with_its_betas_and_tools(
    gate: Gate, key_var: str, key_header: str
) -> None:
    gate.emu.set_reply("claude-sonnet-4-6", "Notice is 30 days (clause 7).")
    run = gate.claude(
        "What is the notice period?",
        env={"ANTHROPIC_MODEL": "claude-sonnet-4-6", **ALIASES},
        key_var=key_var,
    )

    assert run.returncode == 0, run.stderr[-2000:]
    result = run.result
    assert (result["subtype"], result["is_error"]) == ("success", False)
    assert result["result"] == "Notice is 30 days (clause 7)."

    # Claude Code -> loregate: its own client, a streamed request, loregate's headers back.
    [(path, sent, answered)] = gate.inbound.calls
    assert path == "/v1/messages"
    assert sent["user-agent"].startswith(f"claude-cli/{CLAUDE_VERSION}")
    assert sent[key_header].removeprefix("Bearer ") == gate.key
    betas = sent["anthropic-beta"]
    assert "claude-code-20250219" in betas.split(",")
    assert answered[":status"] == "200"
    assert answered["content-type"].startswith("text/event-stream")
    assert answered["x-loregate-routing-version"] and answered["request-id"]

    # loregate -> the upstream: re-issued by loregate's SDK, with everything Claude Code sent.
    [up] = [r for r in gate.emu.requests if r.path == "/v1/messages"]
    assert not up.headers["user-agent"].startswith("claude-cli")
    assert up.headers["anthropic-beta"] == betas
    assert gate.key not in json.dumps(up.headers)  # loregate's own upstream key, not the caller's
    body = up.json or {}
    assert body["model"] == "claude-sonnet-4-6" and body["stream"] is True
    tools = {t["name"] for t in body["tools"]}
    assert {"Bash", "Read", "Edit", "Write"} <= tools
    assert "thinking" in body and "context_management" in body  # extra fields passed through
    assert "What is the notice period?" in json.dumps(body["messages"])

    [row] = gate.ledger_requests()
    assert row["request_id"] == answered["request-id"]
    assert (row["user_id"], row["source"], row["stream"], row["outcome"]) == (
        "cc-dev",
        "api",
        True,
        "ok",
    )
    assert row["model_alias"] == "claude-sonnet-4-6" and row["cost_nano_usd"] > 0


def _blocks(messages: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [
        b
        for m in messages
        if isinstance(m["content"], list)
        for b in m["content"]
        if b.get("type") == kind
    ]


def _read_then_answer(path: Path) -> Any:
    """First turn: call Read on ``path``; once its result is back: quote it."""

    def respond(body: dict[str, Any]) -> Any:
        results = _blocks(body["messages"], "tool_result")
        if not results:
            return [
                {"type": "text", "text": "Reading the notes."},
                {"type": "tool_use", "name": "Read", "input": {"file_path": str(path)}},
            ]
        seen = json.dumps(results[-1].get("content"))
        code = "PINEAPPLE-42" if "PINEAPPLE-42" in seen else "no code in the tool result"
        return f"The launch code is {code}."

    return respond


def test_a_tool_call_round_trip_on_a_route(gate: Gate) -> None:
    notes = gate.work / "NOTES.md"
    notes.write_text("The launch code is PINEAPPLE-42.\n")
    gate.emu.set_responder("claude-haiku", _read_then_answer(notes))
    run = gate.claude(
        "What is the launch code in NOTES.md?",
        env={"ANTHROPIC_MODEL": "default", **ALIASES},  # a loregate route: Haiku first
        args=("--allowedTools", "Read", "--max-turns", "4"),
    )

    assert run.returncode == 0, run.stderr[-2000:]
    assert [c["name"] for c in run.tool_calls()] == ["Read"]
    assert run.result["result"] == "The launch code is PINEAPPLE-42."

    first, second = gate.upstream()
    assert first["model"] == second["model"] == "claude-haiku-4-5-20251001"
    [call] = _blocks(second["messages"], "tool_use")
    [back] = _blocks(second["messages"], "tool_result")
    assert back["tool_use_id"] == call["id"] and call["input"] == {"file_path": str(notes)}
    # An unknown model name makes Claude Code send mid-conversation system messages (a beta).
    assert "system" in {m["role"] for m in first["messages"]}

    rows = gate.ledger_requests()
    assert [(r["requested_route"], r["route"], r["model_alias"], r["stream"]) for r in rows] == [
        ("default", "default", "claude-haiku-4-5", True)
    ] * 2
    assert all(r["outcome"] == "ok" for r in rows)


def test_claude_codes_own_default_model_is_a_clear_404(gate: Gate) -> None:
    """Without the model variables Claude Code asks for its newest model, which loregate's
    config does not know: the user sees loregate's 404, and nothing goes upstream."""
    run = gate.claude("hi", env={})
    result = run.result
    assert result["is_error"] is True and result["api_error_status"] == 404
    assert "claude-opus-5-5" in result["result"]  # this Claude Code version's default model
    assert {answered[":status"] for _, _, answered in gate.inbound.calls} == {"404"}
    assert gate.upstream() == []
