"""What every CLI command shares: settings read once, the object graph, and clear failures."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from typing import Any, ParamSpec, TypeVar

import typer
from rich.console import Console

from kernel.errors import ApiError
from loregate.graph import Loregate
from loregate.offline import configure_offline
from loregate.settings import SettingsError, get_settings

console = Console()
err_console = Console(stderr=True)

P = ParamSpec("P")
R = TypeVar("R")

_graph: Loregate | None = None


def graph() -> Loregate:
    """The CLI's object graph: built on first use from the environment's settings, its
    database migrated (the CLI acts on the database directly as the machine's operator)."""
    global _graph
    if _graph is None:
        configure_offline()
        built = Loregate(get_settings())
        built.migrate()
        _graph = built
    return _graph


def use_graph(built: Loregate | None) -> None:
    """Make the CLI act on ``built`` (a graph with overrides, in tests and embedding programs),
    or, with ``None``, on a graph built from the environment at the next command."""
    global _graph
    _graph = built


def fail(message: str, code: int = 1) -> typer.Exit:
    err_console.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code)


@contextlib.contextmanager
def bad_input(*errors: type[Exception]) -> Iterator[None]:
    """Inside, ``errors`` are the user's mistake: their message (``.message`` or ``str``) and
    exit code 2."""
    try:
        yield
    except errors as exc:
        raise fail(getattr(exc, "message", str(exc)), 2) from None


def friendly_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn settings and API errors into a one-line message and a non-zero exit."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except SettingsError as exc:
            raise fail(str(exc), 2) from None
        except ApiError as exc:
            raise fail(f"{exc.code}: {exc.message}") from None

    return wrapper


def run_async(coro: Any) -> Any:
    import asyncio

    return asyncio.run(coro)
