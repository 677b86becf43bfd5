"""One long-lived worker process that answers what it is sent over an in-memory pipe.

The serving process's writers (the audit log's, the ledger's) hand their batches to such a
child so that the CPU work of writing them (redaction, hashing, SQL) runs outside the serving
process's interpreter lock: a thread there only sends a batch and waits, without the lock, for
the answer. The child is started with ``spawn`` (never ``fork``: the server has threads) on
first use and again after it died. ``setup(*args)`` runs in the child and returns the function
that answers each message. An answer that is an exception (a database that refused a batch)
is raised by the caller's ``exchange``, the child going on; an exception the function raises
instead ends the child, and ``exchange`` raises ``ChildFailed``.

Two priorities (``background``, the default). A batch that is on time is handled by a thread
in Linux's ``SCHED_IDLE`` class: it runs only on cores that the serving process, its clients
and its upstreams leave idle, and gives its core up the moment one of them wakes. Handled at
normal priority, a batch took a core for milliseconds every quarter second and delayed the
requests (and the upstream) waiting for one: most of the one-request-at-a-time p99
(benchmarks/gateway_overhead.py). But idle cores alone do not keep up with a server that is
busy all the time (its records would pile up in the serving process's memory, and a low
``nice`` value is not enough either), so a batch sent as ``urgent`` (the writer is behind)
is handled by the child's main thread at normal priority: a fair share of the CPU until the
writer has caught up. An unprivileged thread cannot leave
``SCHED_IDLE`` (nor lower its nice value) once it is there, hence two threads.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import queue
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

Handler = Callable[[Any], Any]


class ChildFailed(RuntimeError):
    """The child did not start or died: the caller does the work itself."""


class _IdleLane:
    """A thread of the child in ``SCHED_IDLE`` that handles the batches that are on time."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self._inbox: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._outbox: queue.SimpleQueue[tuple[bool, Any]] = queue.SimpleQueue()
        threading.Thread(target=self._run, name="idle-lane", daemon=True).start()

    def _run(self) -> None:
        # This thread only (Linux schedules threads, and its nice value is per thread too).
        with contextlib.suppress(OSError):  # a sandbox that refuses: normal priority
            os.nice(19)
        with contextlib.suppress(OSError, AttributeError):  # not Linux: nice 19 only
            os.sched_setscheduler(threading.get_native_id(), os.SCHED_IDLE, os.sched_param(0))
        while True:
            message = self._inbox.get()
            try:
                self._outbox.put((True, self.handler(message)))
            except BaseException as exc:  # raised again on the child's main thread
                self._outbox.put((False, exc))

    def handle(self, message: Any) -> Any:
        self._inbox.put(message)
        ok, value = self._outbox.get()
        if not ok:
            raise value
        return value


def _serve(setup: Callable[..., Handler], background: bool, conn: Connection, *args: Any) -> None:
    handler = setup(*args)
    lane = _IdleLane(handler) if background else None
    conn.send("ready")
    while True:
        try:
            urgent, message = conn.recv()
        except (EOFError, OSError):
            return
        answer = handler(message) if lane is None or urgent else lane.handle(message)
        conn.send(answer)


class ChildWorker:
    def __init__(
        self,
        setup: Callable[..., Handler],
        args: tuple[Any, ...],
        *,
        name: str,
        background: bool = True,
        start_timeout_s: float = 120.0,
    ) -> None:
        """``setup`` and ``args`` must pickle (a module-level function, plain values)."""
        self.setup = setup
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

    def exchange(self, message: Any, *, urgent: bool = False) -> Any:
        """Send ``message`` and return the child's answer (raised if it is an exception);
        ``ChildFailed`` if the child is gone. ``urgent``: the caller is behind, handle it at
        the child's normal priority."""
        with self._lock:
            conn = self._ensure()
            try:
                conn.send((urgent, message))
                answer = conn.recv()
            except (EOFError, OSError) as exc:
                self._stop()
                raise ChildFailed(f"the {self.name} process failed: {type(exc).__name__}") from exc
        if isinstance(answer, Exception):
            raise answer
        return answer

    def _ensure(self) -> Connection:
        if self._conn is not None and self._process is not None and self._process.is_alive():
            return self._conn
        self._stop()
        ctx = multiprocessing.get_context("spawn")
        ours, theirs = ctx.Pipe()
        process = ctx.Process(
            target=_serve,
            args=(self.setup, self.background, theirs, *self.args),
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
