from __future__ import annotations

from pathlib import Path

import pytest

from loregate.settings import SettingsError, load_settings


def test_defaults_are_embedded(loregate_env: Path) -> None:
    s = load_settings()
    assert s.home == loregate_env
    assert s.resolved_database_url == f"sqlite:///{loregate_env / 'loregate.db'}"
    assert s.redis_url is None and s.qdrant_url is None


def test_postgres_url_uses_psycopg3(loregate_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOREGATE_DATABASE_URL", "postgresql://u@h:5432/db")
    assert load_settings().resolved_database_url == "postgresql+psycopg://u@h:5432/db"


@pytest.mark.parametrize(
    ("var", "value"),
    [
        ("LOREGATE_REDIS_URL", "http://127.0.0.1:6379"),
        ("LOREGATE_DATABASE_URL", "mysql://x"),
        ("LOREGATE_QDRANT_URL", "qdrant:6333"),
        ("LOREGATE_MAX_FILE_BYTES", "-5"),
        ("LOREGATE_MAX_FILE_BYTES", "lots"),
        ("LOREGATE_CONFIG", "/nonexistent/routes.toml"),
        ("LOREGATE_LOG_LEVEL", "LOUD"),
        ("ANTHROPIC_BASE_URL", "api.anthropic.com"),
        ("LOREGATE_EMBEDDINGS_URL", "gpu-box:8000/v1"),
        ("LOREGATE_EMBEDDINGS_URL", "http://gpu-box:8000/v1"),  # without the served model id
        ("LOREGATE_CHUNK_CONTEXT", "llm"),
        ("LOREGATE_JOURNAL_FSYNC", "sometimes"),
    ],
)
def test_bad_value_names_the_variable(
    loregate_env: Path, monkeypatch: pytest.MonkeyPatch, var: str, value: str
) -> None:
    monkeypatch.setenv(var, value)
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert var in str(info.value)
    assert value in str(info.value)


def test_cli_reports_bad_setting_and_exits_2(
    loregate_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from loregate.cli.main import app

    monkeypatch.setenv("LOREGATE_REDIS_URL", "localhost:6379")
    result = CliRunner().invoke(app, ["config"])
    assert result.exit_code == 2
    assert "LOREGATE_REDIS_URL" in result.output
