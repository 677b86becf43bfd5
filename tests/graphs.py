"""Object graphs for tests: the same builder the app and the CLI use, with overrides."""

from __future__ import annotations

from typing import Any

from gateway.providers.base import Provider
from loregate.graph import Loregate
from loregate.overrides import Overrides
from loregate.settings import Settings

NO_PROVIDERS: dict[str, Provider | None] = {"anthropic": None, "openai": None, "local": None}


def build_graph(
    settings: Settings, *, providers: dict[str, Provider | None] | None = None, **overrides: Any
) -> Loregate:
    """A migrated graph; ``providers`` replace (or, with None, switch off) the named providers,
    every provider not named is switched off too, so nothing outside the test is reached."""
    chosen = None if providers is None else {**NO_PROVIDERS, **providers}
    graph = Loregate(settings, Overrides(providers=chosen, **overrides))
    graph.migrate()
    return graph
