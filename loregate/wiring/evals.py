"""Wiring of the `evals` package: builds its parts from the container, and its routers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter

if TYPE_CHECKING:
    from loregate.container import Container


def routers(container: Container) -> list[APIRouter]:
    """The HTTP routers this package contributes to the app."""
    return []
