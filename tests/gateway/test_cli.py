"""`loregate send/models/routes/breakers` against the emulator (no real provider)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from gateway.ledger import ledger
from loregate.cli.main import app
from loregate.database import make_engine
from loregate.settings import get_settings
from testkit.emulator import EmulatorServer

runner = CliRunner()


@pytest.fixture
def cli_env(loregate_env: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatorServer]:
    with EmulatorServer() as emu:
        monkeypatch.setenv("ANTHROPIC_API_KEY", "test")
        monkeypatch.setenv("ANTHROPIC_BASE_URL", emu.base_url)
        get_settings.cache_clear()
        yield emu
    get_settings.cache_clear()


@pytest.mark.wire
def test_send_prints_answer_model_tokens_and_cost(cli_env: EmulatorServer) -> None:
    cli_env.set_reply("claude-haiku", "Clause 7 caps liability at 2x fees.")
    result = runner.invoke(app, ["send", "What does clause 7 say?", "--route", "default"])
    assert result.exit_code == 0, result.output
    assert "Clause 7 caps liability at 2x fees." in result.output
    assert "claude-haiku-4-5" in result.output and "cost $0.0000" in result.output
    engine = make_engine(get_settings().resolved_database_url)
    with engine.connect() as conn:
        row = conn.execute(sa.select(ledger).where(ledger.c.kind == "request")).mappings().one()
    engine.dispose()
    assert (row["source"], row["user_id"], row["outcome"]) == ("cli", "local-operator", "ok")
    assert row["cost_nano_usd"] > 0


@pytest.mark.wire
def test_send_json(cli_env: EmulatorServer) -> None:
    result = runner.invoke(app, ["send", "hi", "--route", "claude-sonnet-4-6", "--json"])
    assert result.exit_code == 0, result.output
    assert '"model_alias": "claude-sonnet-4-6"' in result.output


def test_send_to_an_unknown_route_fails_in_one_line(loregate_env: Path) -> None:
    result = runner.invoke(app, ["send", "hi", "--route", "no-such-route"])
    assert result.exit_code == 1
    assert "unknown_model" in result.output and "no-such-route" in result.output
    assert "Traceback" not in result.output


def test_models_and_routes(loregate_env: Path) -> None:
    result = runner.invoke(app, ["models"], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    assert "claude-haiku-4-5-20251001" in result.output
    assert "ANTHROPIC_API_KEY is not set" in result.output
    result = runner.invoke(app, ["routes"], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    assert "routing version" in result.output
    # No keys: the default route runs the offline route (extractive, then the local model).
    assert "runs the 'offline' route" in result.output
    assert "skipped: claude-haiku-4-5, claude-opus-4-8, claude-sonnet-4-6, gpt-5.5" in result.output
    assert "tier 0: extractive" in result.output and "tier 1: local" in result.output


def test_breakers_needs_a_server(loregate_env: Path) -> None:
    result = runner.invoke(app, ["breakers"])
    assert result.exit_code == 1 and "--url" in result.output
    result = runner.invoke(app, ["breakers", "--url", "http://127.0.0.1:1"])
    assert result.exit_code == 1 and "could not reach" in result.output


def test_bad_config_file_is_named(
    loregate_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[[routes.default.tiers]]\nmodel = "ghost"\n')
    monkeypatch.setenv("LOREGATE_CONFIG", str(bad))
    get_settings.cache_clear()
    result = runner.invoke(app, ["routes"])
    get_settings.cache_clear()
    assert result.exit_code == 1
    assert "routes.default.tiers[0].model" in result.output
