"""Wiring of the `gateway` package: builds its parts from the container, and its routers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter

from loregate.errors_http import ErrorRenderer

if TYPE_CHECKING:
    from loregate.container import Container


def routers(container: Container) -> list[APIRouter]:
    """The HTTP routers this package contributes to the app."""
    return []


def error_renderers() -> list[tuple[str, ErrorRenderer]]:
    """(path prefix, renderer) pairs for endpoints that answer in a vendor's error shape."""
    return []
