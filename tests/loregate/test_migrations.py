"""Migrations run at start-up and by `loregate migrate`; readiness names a pending one."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from loregate.app import create_app
from loregate.cli.main import app as cli
from loregate.database import make_engine, pending_migrations
from loregate.graph import Loregate
from loregate.readiness import readiness
from loregate.settings import get_settings, load_settings


def test_migrate_check_reports_then_migrate_applies(loregate_env: Path) -> None:
    get_settings.cache_clear()
    runner = CliRunner()
    checked = runner.invoke(cli, ["migrate", "--check"])
    assert checked.exit_code == 1 and "pending migrations:" in checked.output
    assert "gov_000" in checked.output and "gw_000" in checked.output  # the heads
    applied = runner.invoke(cli, ["migrate"])
    assert applied.exit_code == 0 and "up to date (applied" in applied.output
    again = runner.invoke(cli, ["migrate", "--check"])
    assert again.exit_code == 0 and "the database is up to date" in again.output
    engine = make_engine(get_settings().resolved_database_url)
    assert pending_migrations(engine) == []
    engine.dispose()


def test_readiness_names_a_pending_migration(loregate_env: Path) -> None:
    graph = Loregate(load_settings())  # built, never migrated
    (db,) = [c for c in readiness(graph) if c.name == "database"]
    assert not db.ok and "migrations pending" in db.detail and "loregate migrate" in db.detail
    graph.migrate()
    (db,) = [c for c in readiness(graph) if c.name == "database"]
    assert db.ok, db.detail


def test_the_app_migrates_at_start_up(loregate_env: Path) -> None:
    graph = Loregate(load_settings())
    with TestClient(create_app(graph=graph)) as client:
        assert client.get("/readyz").status_code == 200
    assert pending_migrations(graph.engine) == []
