"""The rollup's refresh in a worker process (``kernel.child_worker``), off the serving
process's interpreter lock.

A refresh builds and runs SQL and folds each range's sums in Python: tens of milliseconds
every ``console_rollup_interval_s``, on a thread of the serving process, during which each
request's turn of the event loop could wait for the lock. That was a share of the
one-request-at-a-time p99 (benchmarks/gateway_overhead.py). Here the refresher's thread sends
``refresh`` to a child that folds through its own engine and answers with the ids it passed,
while the thread waits without the lock. The child handles it on its idle lane (Linux's
``SCHED_IDLE``): a busy server's cores go to its requests first, and the usage pages lag
until a core is free. The watermark's compare-and-set (``UsageRollup``) makes a refresh that
a dying child left half done safe to run again, here or in the thread.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine

from console.rollup import UsageRollup
from kernel.child_worker import ChildWorker

REFRESH = "refresh"


class RefreshFailed(RuntimeError):
    """The child's database refused a refresh (the refresher tries again at its next turn)."""


def _setup(engine_factory: Callable[[], Engine], settle_s: float, batch: int) -> Any:
    """In the child: what answers each ``refresh`` (the ids passed, or why it failed)."""
    rollup = UsageRollup(engine_factory(), settle_s=settle_s, batch=batch)

    def handle(message: Any) -> Any:
        if message != REFRESH:
            return RefreshFailed(f"unknown message {message!r}")
        try:
            return rollup.refresh()
        except Exception as exc:  # the database: the refresher tries again later
            return RefreshFailed(f"{type(exc).__name__}: {exc}")

    return handle


class RollupProcess:
    """Runs ``UsageRollup.refresh`` in one child process (``child``: started on first use
    or by its ``start``)."""

    def __init__(
        self,
        engine_factory: Callable[[], Engine],
        *,
        settle_s: float,
        batch: int,
        start_timeout_s: float = 60.0,
    ) -> None:
        """``engine_factory`` must pickle (a module-level function or a ``partial`` of one);
        ``settle_s`` and ``batch`` as ``UsageRollup`` takes them."""
        self.child = ChildWorker(
            _setup,
            (engine_factory, settle_s, batch),
            name="loregate-rollup",
            start_timeout_s=start_timeout_s,
        )

    def refresh(self) -> int:
        """One refresh in the child; the ledger ids it passed. ``RefreshFailed``: its
        database refused; ``ChildFailed``: the child is gone (or never started)."""
        return int(self.child.exchange(REFRESH))

    def close(self) -> None:
        self.child.close()
