"""What every CLI command shares: settings read once, the container, and clear failures."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from typing import Any, ParamSpec, TypeVar

import typer
from rich.console import Console

from kernel.errors import ApiError
from loregate.container import Container
from loregate.offline import configure_offline
from loregate.settings import SettingsError, get_settings

console = Console()
err_console = Console(stderr=True)

P = ParamSpec("P")
R = TypeVar("R")

_container: Container | None = None


def container() -> Container:
    """The CLI's container (built on first use from the environment's settings)."""
    global _container
    if _container is None:
        configure_offline()
        _container = Container(get_settings())
    return _container


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
