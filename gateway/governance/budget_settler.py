"""Budget settlement off the request path: a background thread settles in batches.

Settling only moves a request's money from "reserved" to "spent" (and gives back what the
estimate over-counted), so doing it a few milliseconds after the answer is sent is safe: until
then the reservation, never smaller than the real cost's estimate, keeps holding the room. A
batch is one SQL transaction (or one Redis round trip). ``close`` settles everything queued; a
reservation lost in a crash is released by the counter's stale-reservation sweep.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable

from gateway.governance.budgets import BudgetCounter, BudgetState, Reservation

log = logging.getLogger("gateway.governance")

_STOP = object()
Item = tuple[Reservation, int]


class BudgetSettler:
    def __init__(
        self,
        counter: BudgetCounter,
        *,
        on_states: Callable[[Iterable[BudgetState]], None] = lambda states: None,
        batch_size: int = 200,
        max_delay_s: float = 0.02,
        retry_backoff_s: float = 0.5,
    ) -> None:
        self.counter = counter
        self.on_states = on_states
        self.batch_size = batch_size
        self.max_delay_s = max_delay_s
        self.retry_backoff_s = retry_backoff_s
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._pending = 0
        self._cond = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="loregate-budgets", daemon=True)
        self._thread.start()

    def submit(self, reservation: Reservation, actual_nano: int) -> None:
        if self._closed:  # late settlements after shutdown: do them in line
            self.on_states(self.counter.settle(reservation, actual_nano))
            return
        with self._cond:
            self._pending += 1
        self._queue.put((reservation, actual_nano))

    def flush(self, timeout: float | None = None) -> bool:
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

    def _run(self) -> None:
        stopping = False
        while not stopping:
            item = self._queue.get()
            if item is _STOP:
                break
            batch: list[Item] = [item]  # type: ignore[list-item]
            deadline = time.monotonic() + self.max_delay_s
            while len(batch) < self.batch_size:
                try:
                    more = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
                if more is _STOP:
                    stopping = True
                    break
                batch.append(more)  # type: ignore[arg-type]
            self._settle(batch, stopping)
        rest: list[Item] = []
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is not _STOP:
                rest.append(item)  # type: ignore[arg-type]
        if rest:
            self._settle(rest, True)

    def _settle(self, batch: list[Item], stopping: bool) -> None:
        attempt = 0
        while True:
            try:
                for states in self.counter.settle_many(batch):
                    self.on_states(states)
                break
            except Exception:
                attempt += 1
                log.exception("budgets: settling %d requests failed (try %d)", len(batch), attempt)
                if stopping and attempt >= 5:
                    log.error("budgets: %d settlements left to the stale sweep", len(batch))
                    break
                time.sleep(min(30.0, self.retry_backoff_s * 2 ** min(attempt, 6)))
        with self._cond:
            self._pending -= len(batch)
            self._cond.notify_all()
