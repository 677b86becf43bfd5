"""The ``loregate`` command. Each package adds its commands in its own module."""

from __future__ import annotations

import typer

from loregate import __version__
from loregate.cli import (
    billing_cmds,
    demo_cmds,
    emulator_cmds,
    evals_cmds,
    gateway_cmds,
    governance_cmds,
    ingest_cmds,
    mcp_cmds,
    retrieval_cmds,
    worker_cmds,
)
from loregate.cli.common import begin, console, friendly_errors

app = typer.Typer(
    name="loregate",
    help=(
        "loregate: a self-hosted knowledge assistant. Ingest contracts, docs and tickets; ask "
        "questions with cited answers; send every model call through one governed gateway; "
        "evaluate quality and cost.\n\nSettings come from LOREGATE_* environment variables "
        "(see `loregate config`)."
    ),
    no_args_is_help=True,
    rich_markup_mode="rich",
)


@app.callback()
def _begin(ctx: typer.Context) -> None:
    # Every invocation: the commands below act on one object graph, closed when they end.
    begin(ctx)


@app.command()
def version() -> None:
    """Print loregate's version."""
    console.print(__version__)


@app.command("config")
@friendly_errors
def show_config() -> None:
    """Show the settings in force (secrets hidden) and which backend each part uses."""
    from loregate.settings import get_settings

    s = get_settings()
    rows = {
        "LOREGATE_HOME": str(s.home),
        "database": s.resolved_database_url
        if s.database_url
        else f"{s.resolved_database_url} (embedded)",
        "redis": s.redis_url or "in-process (embedded)",
        "qdrant": s.qdrant_url or f"embedded at {s.qdrant_path}",
        "LOREGATE_CONFIG": str(s.config) if s.config else "built-in defaults",
        "anthropic": "key set" if s.anthropic_api_key else "no key",
        "openai": "key set" if s.openai_api_key else "no key",
    }
    for k, v in rows.items():
        console.print(f"[bold]{k:>16}[/]  {v}")


@app.command()
@friendly_errors
def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8000, help="TCP port."),
    workers: int = typer.Option(1, help="Worker processes (metrics stay correct across them)."),
    log_level: str = typer.Option(
        "warning", help="uvicorn log level: critical, error, warning, info, debug or trace."
    ),
) -> None:
    """Run the HTTP API (gateway, ask/search, ingestion, admin) on the configured backends."""
    import os
    import tempfile

    import uvicorn
    from uvicorn.config import LOG_LEVELS

    from loregate.offline import configure_offline
    from loregate.settings import get_settings

    level = log_level.lower()
    if level not in LOG_LEVELS:  # (uvicorn's own check is a KeyError, once it has started)
        raise typer.BadParameter(
            f"{log_level!r} is not one of {', '.join(LOG_LEVELS)}", param_hint="'--log-level'"
        )
    configure_offline()
    settings = get_settings()  # fail here, naming the variable, before any worker starts
    if workers > 1 and "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="loregate-metrics-")
    console.print(f"loregate API on http://{host}:{port}  (data: {settings.home})")
    uvicorn.run(
        "loregate.app:app_factory",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=level,
        # uvicorn builds each request's access line (client address, quoted path) before the
        # logger drops it; at a level that shows none, it is not built at all.
        access_log=level in ("trace", "debug", "info"),
    )


@app.command()
@friendly_errors
def migrate(
    check: bool = typer.Option(
        False, "--check", help="Only report pending migrations (exit 1 if any); change nothing."
    ),
) -> None:
    """Bring the database schema up to date (every package's migrations)."""
    from loregate.database import make_engine, pending_migrations
    from loregate.database import migrate as run_migrations
    from loregate.settings import get_settings

    settings = get_settings()
    settings.home.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.resolved_database_url)
    try:
        pending = pending_migrations(engine)
        if check:
            if pending:
                console.print(f"pending migrations: {', '.join(pending)}")
                raise typer.Exit(1)
            console.print("the database is up to date")
            return
        run_migrations(engine)
        done = f"applied {', '.join(pending)}" if pending else "nothing to apply"
        console.print(f"the database is up to date ({done})")
    finally:
        engine.dispose()


for module in (
    gateway_cmds,
    emulator_cmds,
    governance_cmds,
    billing_cmds,
    retrieval_cmds,
    ingest_cmds,
    worker_cmds,
    evals_cmds,
    mcp_cmds,
    demo_cmds,
):
    app.add_typer(module.app)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
