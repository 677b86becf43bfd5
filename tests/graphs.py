"""Object graphs for tests: the same builder the app and the CLI use, with overrides."""

from __future__ import annotations

from typing import Any

from click.testing import Result
from typer.testing import CliRunner

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


def rig_settings(**values: Any) -> Settings:
    """Settings for a test rig: every field at its default, whatever the shell's environment
    holds (no server URL, no config file, no provider key), ``values`` on top."""
    defaults = {name: field.default for name, field in Settings.model_fields.items()}
    return Settings(**{**defaults, **values})


def rig_graph(
    providers: dict[str, Provider | None], *, settings: Settings | None = None, **overrides: Any
) -> Loregate:
    """A graph (on ``rig_settings()`` unless given) whose providers are exactly ``providers``
    (the others switched off), not migrated: for rigs that bring their own engine or need none."""
    chosen = {**NO_PROVIDERS, "extractive": None, **providers}
    return Loregate(settings or rig_settings(), Overrides(providers=chosen, **overrides))


class GraphRunner(CliRunner):
    """A CliRunner whose commands act on ``graph`` (Click's context object) instead of one
    built from the environment."""

    def __init__(self, graph: Loregate) -> None:
        super().__init__()
        self.graph = graph

    def invoke(self, cli: Any, args: Any = None, **kwargs: Any) -> Result:  # type: ignore[override]
        kwargs.setdefault("obj", self.graph)
        return super().invoke(cli, args, **kwargs)
