"""CLI commands of the `gateway` part."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this part's commands and groups to the `loregate` command."""
