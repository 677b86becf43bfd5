"""``loregate serve``: what it asks uvicorn for."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import uvicorn
from typer.testing import CliRunner

from loregate.cli.main import app


@pytest.mark.parametrize(
    ("level", "access_log"),
    [("info", True), ("DEBUG", True), ("warning", False), ("error", False)],
)
def test_access_lines_are_made_only_at_a_level_that_shows_them(
    loregate_env: Path, monkeypatch: pytest.MonkeyPatch, level: str, access_log: bool
) -> None:
    asked: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda target, **kw: asked.update(kw, target=target))
    result = CliRunner().invoke(app, ["serve", "--port", "8123", "--log-level", level])
    assert result.exit_code == 0, result.output
    assert asked["target"] == "loregate.app:app_factory" and asked["port"] == 8123
    assert asked["log_level"] == level.lower() and asked["access_log"] is access_log


def test_an_unknown_log_level_is_named_before_anything_starts(
    loregate_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[object] = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **kw: asked.append(kw))
    result = CliRunner().invoke(app, ["serve", "--log-level", "bogus"])
    assert result.exit_code == 2 and not asked
    assert "--log-level" in result.output and "'bogus' is not one of" in result.output
    assert "warning" in result.output
