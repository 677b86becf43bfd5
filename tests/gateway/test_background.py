"""The background batch worker behind the ledger, audit and budget writers."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from gateway.background import BatchWorker


def _worker(
    batches: list[list[int]],
    *,
    batch_size: int = 100,
    max_delay_s: float = 30.0,
    handle: Callable[[list[int]], None] | None = None,
) -> BatchWorker[int, int]:
    """A worker that appends each batch to ``batches`` (or hands it to ``handle``)."""
    return BatchWorker(
        handle or (lambda batch: batches.append(list(batch))),
        prepare=lambda items: items,
        name="test-batch-worker",
        batch_size=batch_size,
        max_delay_s=max_delay_s,
        retry_backoff_s=0.01,
        log=logging.getLogger("test"),
        failed="failed %d (attempt %d)",
        giving_up="giving up on %d",
    )


def test_items_put_together_are_handled_as_one_batch_on_flush() -> None:
    batches: list[list[int]] = []
    worker = _worker(batches)  # a batch is due only after 30 s
    for i in range(10):
        worker.put(i)
    assert worker.flush(timeout=10)  # flush does not wait for the batch to be due
    assert batches == [list(range(10))]
    worker.close()


def test_batches_never_exceed_batch_size_and_nothing_is_lost() -> None:
    batches: list[list[int]] = []
    worker = _worker(batches, batch_size=10)
    for i in range(25):
        worker.put(i)
    assert worker.flush(timeout=10)
    assert all(len(b) <= 10 for b in batches)
    assert [i for b in batches for i in b] == list(range(25))
    worker.close()


def test_close_handles_everything_queued() -> None:
    batches: list[list[int]] = []
    worker = _worker(batches)
    for i in range(5):
        worker.put(i)
    worker.close(timeout=10)
    assert [i for b in batches for i in b] == list(range(5))


def test_call_soon_runs_while_a_batch_is_gathering() -> None:
    batches: list[list[int]] = []
    worker = _worker(batches)
    worker.put(1)  # the thread now waits up to 30 s for more
    ran = threading.Event()
    worker.call_soon(ran.set)
    assert ran.wait(timeout=10)
    assert batches == []  # the gathering batch was not handled early
    worker.close(timeout=10)
    assert batches == [[1]]


def test_a_failing_batch_is_retried_not_dropped() -> None:
    seen: list[list[int]] = []
    failures = iter([True, False])

    def handle(batch: list[int]) -> None:
        if next(failures, False):
            raise RuntimeError("database down")
        seen.append(list(batch))

    worker: BatchWorker[int, int] = BatchWorker(
        handle,
        prepare=lambda items: items,
        name="test-batch-worker",
        batch_size=100,
        max_delay_s=30.0,
        retry_backoff_s=0.01,
        log=logging.getLogger("test"),
        failed="failed %d (attempt %d)",
        giving_up="giving up on %d",
    )
    worker.put(7)
    assert worker.flush(timeout=10)
    assert seen == [[7]]
    assert worker.failures == 1
    worker.close()


def test_a_worker_is_behind_while_more_than_two_batches_wait() -> None:
    gate = threading.Event()

    def handle(batch: list[int]) -> None:
        gate.wait(10)

    worker = _worker([], batch_size=10, max_delay_s=0.01, handle=handle)
    worker.put(0)
    assert not worker.behind
    for i in range(1, 30):
        worker.put(i)  # the first batch is held in ``handle``: the rest waits
    assert worker.behind
    gate.set()
    assert worker.flush(timeout=10)
    assert not worker.behind
    worker.close()
