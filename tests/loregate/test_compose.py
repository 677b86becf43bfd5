"""docker-compose.yml cannot run here (no Docker engine): check it against the code instead."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import typer.main
import yaml

from loregate.cli.main import app
from loregate.settings import Settings, env_name

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, Any] = COMPOSE["services"]


def _resolve(argv: list[str]) -> Any:
    """Walk the loregate command tree the way the shell would, option by option."""
    command: Any = typer.main.get_command(app)
    args = argv[1:]
    while hasattr(command, "list_commands") and args:
        sub = command.get_command(typer.Context(command), args[0])
        assert sub is not None, f"`loregate {' '.join(argv[1:])}`: no command {args[0]!r}"
        command, args = sub, args[1:]
    options = {o for p in command.params for o in getattr(p, "opts", [])}
    for arg in args:
        if arg.startswith("--"):
            assert arg.split("=")[0] in options, f"`{' '.join(argv)}`: no option {arg}"
    return command


def test_scaled_out_shape() -> None:
    assert {"api", "ingest-worker", "qdrant", "redis", "postgres", "prometheus"} <= set(SERVICES)
    assert SERVICES["api"]["deploy"]["replicas"] > 1
    for name, service in SERVICES.items():
        assert "healthcheck" in service or name == "ingest-worker", f"{name} has no healthcheck"
    for volume in ("qdrant-data", "redis-data", "postgres-data"):
        assert volume in COMPOSE["volumes"]


def test_every_loregate_command_exists() -> None:
    commands = [
        s["command"] for s in SERVICES.values() if s.get("command", [None])[0] == "loregate"
    ]
    assert len(commands) >= 2
    for argv in commands:
        _resolve(argv)


def test_every_variable_is_a_setting() -> None:
    known = {env_name(f) for f in Settings.model_fields} | {"PROMETHEUS_MULTIPROC_DIR"}
    for name in ("api", "ingest-worker"):
        env = SERVICES[name]["environment"]
        for var in env:
            assert var in known, f"{name}: {var} is not read by loregate"
    # and every URL switches a server-backed part on
    env = SERVICES["api"]["environment"]
    assert env["LOREGATE_DATABASE_URL"].startswith("postgresql://")
    assert env["LOREGATE_REDIS_URL"].startswith("redis://")
    assert env["LOREGATE_QDRANT_URL"].startswith("http://")


def test_mounted_files_exist() -> None:
    for service in SERVICES.values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (ROOT / source).is_file(), f"{source} is mounted but missing"
    assert re.search(r"/metrics", (ROOT / "deploy" / "prometheus.yml").read_text())


def test_deployment_gateway_config_loads() -> None:
    from gateway.config import load_config

    config = load_config(ROOT / "deploy" / "gateway.toml")
    assert [t.model for t in config.routes["contracts"].tiers] == [
        "claude-sonnet-4-6",
        "claude-opus-4-8",
    ]
    assert "default" in config.routes  # merged over the built-in routes
