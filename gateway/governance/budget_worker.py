"""One thread that does all of a process's budget I/O: reservations and settlements.

- A reservation is the admission decision: the caller awaits it. It is one transaction (SQL) or
  one script call (Redis), run on this thread.
- Settlement only moves a request's money from "reserved" to "spent", so it leaves the request
  path: ``settle`` enqueues, and the thread settles what has accumulated as one batch (one
  transaction or round trip) at most ``max_delay_s`` after the first of them, reservations
  going first. Until then the reservation keeps holding the room, so nothing can overrun a
  budget meanwhile.

A single thread means the process never competes with itself for SQLite's write lock (two
threads would: SQLite's busy handler then sleeps for milliseconds). ``close`` settles
everything queued; a reservation lost in a crash is released by the counter's stale sweep.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gateway.governance.budgets import Budget, BudgetCounter, BudgetState, Reservation

log = logging.getLogger("gateway.governance")

_STOP = object()


@dataclass
class _Reserve:
    budgets: Sequence[Budget]
    amount: int
    now: datetime
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Reservation]


@dataclass
class _Settle:
    reservation: Reservation
    actual: int


class BudgetWorker:
    def __init__(
        self,
        counter: BudgetCounter,
        *,
        on_states: Callable[[Iterable[BudgetState]], None] = lambda states: None,
        max_batch: int = 500,
        max_delay_s: float = 0.05,
        retry_backoff_s: float = 0.5,
    ) -> None:
        self.counter = counter
        self.on_states = on_states
        self.max_batch = max_batch
        self.max_delay_s = max_delay_s
        self.retry_backoff_s = retry_backoff_s
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._pending = 0  # settlements enqueued and not yet done
        self._cond = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="loregate-budgets", daemon=True)
        self._thread.start()

    # Callers ----------------------------------------------------------------------------------
    async def reserve(
        self, budgets: Sequence[Budget], amount_nano: int, now: datetime
    ) -> Reservation:
        if self._closed:
            return await asyncio.to_thread(self.counter.reserve, budgets, amount_nano, now)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Reservation] = loop.create_future()
        self._queue.put(_Reserve(budgets, amount_nano, now, loop, future))
        return await future

    def settle(self, reservation: Reservation, actual_nano: int) -> None:
        if self._closed:  # a late settlement after shutdown: do it in line
            self.on_states(self.counter.settle(reservation, actual_nano))
            return
        with self._cond:
            self._pending += 1
        self._queue.put(_Settle(reservation, actual_nano))

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every settlement enqueued so far is done."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while self._pending:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._cond.wait(remaining)
        return True

    def close(self, timeout: float | None = None) -> None:
        if self._closed:
            return
        self._closed = True
        self._queue.put(_STOP)
        self._thread.join(timeout)

    async def aclose(self) -> None:
        await asyncio.to_thread(self.close)

    # The thread -------------------------------------------------------------------------------
    def _run(self) -> None:
        settles: list[_Settle] = []
        due = 0.0  # when the oldest waiting settlement must be written
        stopping = False
        while not stopping:
            timeout = None if not settles else max(0.0, due - time.monotonic())
            try:  # reservations first: settlements wait for a quiet moment, or their due time
                item = self._queue.get(timeout=timeout)
            except queue.Empty:
                self._settle(settles)
                settles = []
                continue
            if item is _STOP:
                stopping = True
            elif isinstance(item, _Reserve):
                self._reserve(item)
            elif isinstance(item, _Settle):
                if not settles:
                    due = time.monotonic() + self.max_delay_s
                settles.append(item)
                if len(settles) >= self.max_batch:
                    self._settle(settles)
                    settles = []
        while True:  # whatever arrived with or after the stop marker
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if isinstance(item, _Reserve):
                self._reserve(item)
            elif isinstance(item, _Settle):
                settles.append(item)
        self._settle(settles, stopping=True)

    def _reserve(self, item: _Reserve) -> None:
        result: Any
        done: Callable[[asyncio.Future[Reservation], Any], None]
        try:
            result = self.counter.reserve(item.budgets, item.amount, item.now)
            done = self._resolve
        except BaseException as exc:  # handed to the waiting caller
            result = exc
            done = _reject
        try:
            item.loop.call_soon_threadsafe(done, item.future, result)
        except RuntimeError:  # the caller's loop is gone
            if isinstance(result, Reservation):
                self.counter.settle(result, 0)

    def _resolve(self, future: asyncio.Future[Reservation], value: Reservation) -> None:
        if future.done():  # the caller gave up (cancelled): give the room back
            self.settle(value, 0)
        else:
            future.set_result(value)

    def _settle(self, batch: list[_Settle], stopping: bool = False) -> None:
        if not batch:
            return
        attempt = 0
        while True:
            try:
                items = [(s.reservation, s.actual) for s in batch]
                for states in self.counter.settle_many(items):
                    self.on_states(states)
                break
            except Exception:
                attempt += 1
                log.exception("budgets: settling %d requests failed (try %d)", len(batch), attempt)
                if attempt >= 5 and stopping:
                    log.error("budgets: %d settlements left to the stale sweep", len(batch))
                    break
                time.sleep(min(30.0, self.retry_backoff_s * 2 ** min(attempt, 6)))
        with self._cond:
            self._pending -= len(batch)
            self._cond.notify_all()


def _reject(future: asyncio.Future[Reservation], exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)
