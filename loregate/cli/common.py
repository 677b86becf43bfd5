"""What every CLI command shares: settings read once, the object graph, and clear failures."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Callable, Iterator
from contextvars import ContextVar
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


_invocation: ContextVar[typer.Context] = ContextVar("loregate_cli_invocation")


def begin(ctx: typer.Context) -> None:
    """Run first by every ``loregate`` invocation (the root callback): ``graph`` serves the
    commands of this invocation, and only of it."""
    token = _invocation.set(ctx)
    ctx.call_on_close(lambda: _invocation.reset(token))


def graph(*, migrate: bool = True) -> Loregate:
    """The object graph the running command acts on.

    The caller's, when it gave one as the context object (``app(obj=graph)``; in tests
    ``CliRunner().invoke(app, args, obj=graph)``); else built on first use from the
    environment's settings, its database migrated unless the command never touches it (the CLI
    acts on the database directly, as the machine's operator), and closed, last part built
    first, when the command ends. Commands that run the gateway close it themselves inside
    their event loop, which owns its HTTP clients; what is left to close then is synchronous."""
    ctx = _invocation.get()
    if isinstance(ctx.obj, Loregate):
        return ctx.obj
    configure_offline()
    built = Loregate(get_settings())
    if migrate:
        built.migrate()
    ctx.obj = built
    ctx.call_on_close(functools.partial(_close, built))
    return built


def _close(built: Loregate) -> None:
    asyncio.run(built.aclose())


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
    return asyncio.run(coro)
