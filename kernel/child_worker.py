"""One long-lived worker process that answers what it is sent over an in-memory pipe.

The serving process's writers (the audit log's, the ledger's) hand their batches to such a
child so that the CPU work of writing them (redaction, hashing, SQL) runs outside the serving
process's interpreter lock: a thread there only sends a batch and waits, without the lock, for
the answer. The child is started with ``spawn`` (never ``fork``: the server has threads) on
first use and again after it died, in Linux's ``SCHED_IDLE`` class (elsewhere at ``nice`` 19):
it runs on the cores the serving process, its clients and its upstreams leave idle, and a
request's process that wakes takes a core from it at once. Writing a batch at normal priority
took a core for milliseconds every quarter second and delayed the requests (and the upstream)
waiting for one: most of the one-request-at-a-time p99 (benchmarks/gateway_overhead.py). The
cost: on a machine whose every core is busy all the time, the writers fall behind (their
records wait in the serving process's memory) until a core is free.

``target(conn, *args)`` runs in the child: it sends ``"ready"`` once it can take work, then
answers each message it receives, until the pipe closes.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any


class ChildFailed(RuntimeError):
    """The child did not start or died: the caller does the work itself."""


def _lower_priority() -> None:
    with contextlib.suppress(OSError, AttributeError):  # a platform without it: normal priority
        os.nice(19)
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))  # Linux only


def _run(target: Callable[..., None], background: bool, conn: Connection, *args: Any) -> None:
    if background:
        _lower_priority()
    target(conn, *args)


class ChildWorker:
    def __init__(
        self,
        target: Callable[..., None],
        args: tuple[Any, ...],
        *,
        name: str,
        background: bool = True,
        start_timeout_s: float = 120.0,
    ) -> None:
        """``target`` and ``args`` must pickle (a module-level function, plain values)."""
        self.target = target
        self.args = args
        self.name = name
        self.background = background
        self.start_timeout_s = start_timeout_s
        self._conn: Connection | None = None
        self._process: multiprocessing.process.BaseProcess | None = None
        self._lock = threading.Lock()

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def start(self) -> None:
        """Start the child now (else the first exchange does)."""
        with self._lock:
            self._ensure()

    def exchange(self, message: Any) -> Any:
        """Send ``message`` and return the child's answer; ``ChildFailed`` if it is gone."""
        with self._lock:
            conn = self._ensure()
            try:
                conn.send(message)
                return conn.recv()
            except (EOFError, OSError) as exc:
                self._stop()
                raise ChildFailed(f"the {self.name} process failed: {type(exc).__name__}") from exc

    def _ensure(self) -> Connection:
        if self._conn is not None and self._process is not None and self._process.is_alive():
            return self._conn
        self._stop()
        ctx = multiprocessing.get_context("spawn")
        ours, theirs = ctx.Pipe()
        process = ctx.Process(
            target=_run,
            args=(self.target, self.background, theirs, *self.args),
            name=self.name,
            daemon=True,
        )
        process.start()
        theirs.close()
        try:
            ready = ours.poll(self.start_timeout_s) and ours.recv() == "ready"
        except (EOFError, OSError):  # it died before it was ready
            ready = False
        if not ready:
            process.kill()
            process.join(5)
            ours.close()
            raise ChildFailed(f"the {self.name} process did not start")
        self._conn, self._process = ours, process
        return ours

    def _stop(self) -> None:
        if self._conn is not None:
            self._conn.close()
        if self._process is not None:
            self._process.join(5)
            if self._process.is_alive():
                self._process.kill()
        self._conn = self._process = None

    def kill(self) -> None:
        """Kill the child abruptly (what a crash does; for tests of the recovery)."""
        with self._lock:
            if self._process is not None:
                self._process.kill()
                self._process.join(10)

    def close(self) -> None:
        with self._lock:
            self._stop()
