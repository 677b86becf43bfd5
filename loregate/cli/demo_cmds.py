"""CLI commands of the `demo` part."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this part's commands and groups to the `loregate` command."""
