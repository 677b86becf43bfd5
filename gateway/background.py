"""A background thread that handles queued items in batches, off the hot path.

``put`` only enqueues. The thread takes what has accumulated, at most ``batch_size`` items and
at most ``max_delay_s`` after the first of them, prepares the batch once and hands it to
``handle_batch``: on an error it keeps the batch and tries again with backoff (at shutdown it
gives up after five tries). ``call_soon`` runs a function on the thread without waiting for the
batch. ``flush`` waits until everything put so far is handled; ``close`` handles everything
queued, then stops the thread: a clean stop loses nothing.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

T = TypeVar("T")  # what callers put
R = TypeVar("R")  # what ``handle_batch`` takes

_STOP = object()


@dataclass(frozen=True)
class _Call:
    fn: Callable[[], None]


class BatchWorker(Generic[T, R]):
    """``prepare`` turns the items of a batch into what ``handle_batch`` writes (once, not on
    each retry); ``failed`` (count, attempt) and ``giving_up`` (count) are the log messages."""

    def __init__(
        self,
        handle_batch: Callable[[list[R]], None],
        *,
        prepare: Callable[[list[T]], list[R]],
        name: str,
        batch_size: int,
        max_delay_s: float,
        retry_backoff_s: float,
        log: logging.Logger,
        failed: str,
        giving_up: str,
    ) -> None:
        self.handle_batch = handle_batch
        self.prepare = prepare
        self.batch_size = batch_size
        self.max_delay_s = max_delay_s
        self.retry_backoff_s = retry_backoff_s
        self.failures = 0
        self.closed = False
        self._log = log
        self._failed = failed
        self._giving_up = giving_up
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._pending = 0  # items put and not yet handled
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    # Callers ----------------------------------------------------------------------------------
    def put(self, item: T) -> None:
        """Enqueue ``item`` (callers decide what to do once ``closed`` is set)."""
        with self._cond:
            self._pending += 1
        self._queue.put(item)

    def call_soon(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` on the thread as soon as it is free (waiting batches do not delay it)."""
        self._queue.put(_Call(fn))

    def flush(self, timeout: float | None = None) -> bool:
        """Block until every item put so far is handled (True) or ``timeout`` passes."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while self._pending:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._cond.wait(remaining)
        return True

    def close(self, timeout: float | None = None) -> None:
        if self.closed:
            return
        self.closed = True
        self._queue.put(_STOP)
        self._thread.join(timeout)

    async def aclose(self) -> None:
        await asyncio.to_thread(self.close)

    # The thread -------------------------------------------------------------------------------
    def _run(self) -> None:
        batch: list[T] = []
        due = 0.0  # when the oldest waiting item must be handled
        while True:
            timeout = None if not batch else max(0.0, due - time.monotonic())
            try:
                item = self._queue.get(timeout=timeout)
            except queue.Empty:
                self._handle(batch)
                batch = []
                continue
            if item is _STOP:
                break
            if isinstance(item, _Call):
                item.fn()
                continue
            if not batch:
                due = time.monotonic() + self.max_delay_s
            batch.append(cast(T, item))
            if len(batch) >= self.batch_size:
                self._handle(batch)
                batch = []
        self._handle(batch, stopping=True)
        rest: list[T] = []
        while True:  # whatever arrived with or after the stop marker
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if isinstance(item, _Call):
                item.fn()
            elif item is not _STOP:
                rest.append(cast(T, item))
        self._handle(rest, stopping=True)

    def _handle(self, items: list[T], stopping: bool = False) -> None:
        if not items:
            return
        batch = self.prepare(items)
        attempt = 0
        while True:
            try:
                self.handle_batch(batch)
                break
            except Exception:
                attempt += 1
                self.failures += 1
                self._log.exception(self._failed, len(batch), attempt)
                if stopping and attempt >= 5:
                    self._log.error(self._giving_up, len(batch))
                    break
                time.sleep(min(30.0, self.retry_backoff_s * 2 ** min(attempt, 6)))
        with self._cond:
            self._pending -= len(items)
            self._cond.notify_all()


class BatchOwner:
    """``flush``, ``close`` and ``aclose`` for a class that keeps its worker in ``_worker``."""

    _worker: BatchWorker[Any, Any]

    def flush(self, timeout: float | None = None) -> bool:
        """Block until everything enqueued so far is handled (True) or ``timeout`` passes."""
        return self._worker.flush(timeout)

    def close(self, timeout: float | None = None) -> None:
        """Handle everything enqueued, then stop the thread."""
        self._worker.close(timeout)

    async def aclose(self) -> None:
        await self._worker.aclose()
