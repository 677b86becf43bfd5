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
        self._lock = threading.Lock()  # the condition's, taken directly by ``put``
        self._cond = threading.Condition(self._lock)
        self._wake = threading.Event()  # set: a batch is full, a call waits, flush or close
        self._hurry = threading.Event()  # set while someone flushes: do not wait until due
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    # Callers ----------------------------------------------------------------------------------
    def put(self, item: T) -> None:
        """Enqueue ``item`` (callers decide what to do once ``closed`` is set)."""
        with self._lock:  # (nothing to notify: two Python calls less than the condition's)
            self._pending += 1
        self._queue.put(item)
        if self._queue.qsize() >= self.batch_size:
            self._wake.set()

    @property
    def behind(self) -> bool:
        """More than two batches' worth is waiting (the one in hand included): the thread
        is not keeping up with the callers."""
        return self._pending > 2 * self.batch_size

    def call_soon(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` on the thread as soon as it is free (waiting batches do not delay it)."""
        self._queue.put(_Call(fn))
        self._wake.set()

    def flush(self, timeout: float | None = None) -> bool:
        """Block until every item put so far is handled (True) or ``timeout`` passes."""
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            with self._cond:
                while self._pending:
                    self._hurry.set()  # a gathering batch is handled now, not when it is due
                    self._wake.set()
                    remaining = None if deadline is None else deadline - time.monotonic()
                    if remaining is not None and remaining <= 0:
                        return False
                    self._cond.wait(remaining)
        finally:
            self._hurry.clear()
        return True

    def close(self, timeout: float | None = None) -> None:
        if self.closed:
            return
        self.closed = True
        self._queue.put(_STOP)
        self._wake.set()
        self._thread.join(timeout)

    async def aclose(self) -> None:
        await asyncio.to_thread(self.close)

    # The thread -------------------------------------------------------------------------------
    # It wakes once per batch, not once per item: after the first item it waits (one timed
    # wait) until the batch is due or full, then drains the queue without blocking. Waking for
    # each item made it wait for the GIL each time (up to the interpreter's 5 ms switch
    # interval beside a busy event loop), and under sustained load the queue grew without bound.
    def _run(self) -> None:
        stopping = False
        while not stopping:
            batch: list[T] = []
            stopping = self._accept(self._queue.get(), batch)  # idle until something arrives
            stopping = self._drain(batch) or stopping
            due = time.monotonic() + self.max_delay_s
            while batch and len(batch) < self.batch_size and not stopping:
                if self._hurry.is_set():
                    break
                remaining = due - time.monotonic()
                if remaining <= 0:
                    break
                self._wake.wait(remaining)
                self._wake.clear()
                stopping = self._drain(batch)
            for start in range(0, len(batch), self.batch_size):
                self._handle(batch[start : start + self.batch_size], stopping=stopping)
        rest: list[T] = []
        self._drain(rest)  # whatever arrived with or after the stop marker
        self._handle(rest, stopping=True)

    def _accept(self, item: object, batch: list[T]) -> bool:
        """Take one queued item into ``batch``; True for the stop marker."""
        if item is _STOP:
            return True
        if isinstance(item, _Call):
            item.fn()
        else:
            batch.append(cast(T, item))
        return False

    def _drain(self, batch: list[T]) -> bool:
        """Take everything queued now, without blocking; True if the stop marker was there."""
        stop = False
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return stop
            stop = self._accept(item, batch) or stop

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
        self._release()

    async def aclose(self) -> None:
        await self._worker.aclose()
        self._release()

    def _release(self) -> None:
        """Once the thread has stopped: let go of what it wrote through (a child process)."""
