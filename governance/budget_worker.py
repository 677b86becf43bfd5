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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gateway.background import BatchOwner, BatchWorker
from governance.budgets import Budget, BudgetCounter, BudgetState, Reservation

log = logging.getLogger("governance")


@dataclass
class _Reserve:
    budgets: Sequence[Budget]
    amount: int
    now: datetime
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Reservation]


_Settle = tuple[Reservation, int]  # a reservation and what the request really cost


class BudgetWorker(BatchOwner):
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
        # settlements wait in batches; reservations are run by ``call_soon``, ahead of them
        self._worker: BatchWorker[_Settle, _Settle] = BatchWorker(
            self._settle,
            prepare=list,
            name="loregate-budgets",
            batch_size=max_batch,
            max_delay_s=max_delay_s,
            retry_backoff_s=retry_backoff_s,
            log=log,
            failed="budgets: settling %d requests failed (try %d)",
            giving_up="budgets: %d settlements left to the stale sweep",
        )

    # Callers ----------------------------------------------------------------------------------
    async def reserve(
        self, budgets: Sequence[Budget], amount_nano: int, now: datetime
    ) -> Reservation:
        if self._worker.closed:
            return await asyncio.to_thread(self.counter.reserve, budgets, amount_nano, now)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Reservation] = loop.create_future()
        item = _Reserve(budgets, amount_nano, now, loop, future)
        self._worker.call_soon(lambda: self._reserve(item))
        return await future

    def settle(self, reservation: Reservation, actual_nano: int) -> None:
        if self._worker.closed:  # a late settlement after shutdown: do it in line
            self.on_states(self.counter.settle(reservation, actual_nano))
            return
        self._worker.put((reservation, actual_nano))

    # The thread -------------------------------------------------------------------------------
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

    def _settle(self, batch: list[_Settle]) -> None:
        for states in self.counter.settle_many(batch):
            self.on_states(states)


def _reject(future: asyncio.Future[Reservation], exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)
