"""The emulator server's life cycle, and `loregate emulator` in the foreground."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import anthropic
import pytest
from typer.testing import CliRunner

from loregate.cli.main import app
from testkit.emulator import EmulatorServer

pytestmark = pytest.mark.wire
LOREGATE = Path(sys.executable).parent / "loregate"


def test_port_zero_picks_a_port_and_stop_frees_it() -> None:
    server = EmulatorServer().start()
    port = server.port
    assert port > 0 and server.base_url == f"http://127.0.0.1:{port}"
    with anthropic.Anthropic(base_url=server.base_url, api_key="k", max_retries=0) as client:
        assert (
            client.messages.count_tokens(
                model="m", messages=[{"role": "user", "content": "a b"}]
            ).input_tokens
            == 2
        )
    server.stop()
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))  # free again


def test_a_busy_port_raises_in_the_caller() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        with pytest.raises(OSError):
            EmulatorServer(port=busy.getsockname()[1]).start()


def test_requests_are_recorded_unless_disabled() -> None:
    with (
        EmulatorServer(record=False) as quiet,
        anthropic.Anthropic(base_url=quiet.base_url, api_key="k", max_retries=0) as client,
    ):
        client.messages.create(model="m", max_tokens=5, messages=[{"role": "user", "content": "x"}])
        assert quiet.requests == []


def test_cli_busy_port_is_a_one_line_error() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(app, ["emulator", "--port", str(port)])
    assert result.exit_code == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.output
    bad = CliRunner().invoke(app, ["emulator", "--port", "70000"])
    assert bad.exit_code == 2 and "65535" in bad.output


def test_cli_runs_in_the_foreground_until_interrupted() -> None:
    env = {**os.environ, "COLUMNS": "200"}
    proc = subprocess.Popen(
        [str(LOREGATE), "emulator", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        lines: list[str] = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            lines.append(line)
            if "Ctrl-C" in line:
                break
        base = next(x.split("=", 1)[1].strip() for x in lines if "ANTHROPIC_BASE_URL" in x)
        assert any(f"OPENAI_BASE_URL={base}/v1" in x for x in lines)
        with anthropic.Anthropic(base_url=base, api_key="k", max_retries=0) as client:
            reply = client.messages.create(
                model="claude-haiku-4-5",
                max_tokens=50,
                messages=[{"role": "user", "content": "Hello"}],
            )
        assert reply.content[0].text == "Emulated answer from claude-haiku-4-5: Hello"  # type: ignore[union-attr]
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=20)
        assert proc.returncode == 0
        assert "emulator stopped" in out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
