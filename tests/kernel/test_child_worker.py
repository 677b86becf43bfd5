"""A writer's child process: answers over its pipe on idle cores when on time and at normal
priority when urgent, comes back after a crash, and one that cannot start is an
error the caller can act on."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from typing import Any

import pytest

from kernel.child_worker import ChildFailed, ChildWorker

LINUX = sys.platform == "linux"


def _idle_class_allowed() -> bool:
    """Whether this machine lets a thread put itself in ``SCHED_IDLE`` (a sandbox may not:
    the child then stays at normal priority, at nice 19)."""
    allowed: list[bool] = []

    def probe() -> None:
        try:
            os.sched_setscheduler(threading.get_native_id(), os.SCHED_IDLE, os.sched_param(0))
            allowed.append(True)
        except OSError:
            allowed.append(False)

    thread = threading.Thread(target=probe)
    thread.start()
    thread.join()
    return allowed[0]


def _echo(prefix: str) -> Callable[[Any], Any]:
    def handle(message: Any) -> Any:
        if message == "crash":
            raise RuntimeError("a bug in the handler")
        if message == "refuse":
            return ValueError("the database refused it")  # an answer: raised by exchange
        policy = os.sched_getscheduler(0) if LINUX else None
        return f"{prefix}{message}", os.getpid(), policy, os.nice(0)

    return handle


def _broken() -> Callable[[Any], Any]:
    raise RuntimeError("cannot start")


def test_on_time_on_idle_cores_urgent_at_normal_priority_and_back_after_a_crash() -> None:
    worker = ChildWorker(_echo, ("got ",), name="test-echo")
    try:
        text, pid, policy, nice = worker.exchange("one")
        assert text == "got one" and pid == worker.pid != os.getpid()
        assert nice == 19
        if LINUX and _idle_class_allowed():
            assert policy == os.SCHED_IDLE  # only the cores nothing else wants
        text, again, policy, nice = worker.exchange("two", urgent=True)
        assert text == "got two" and again == pid  # one long-lived child
        if LINUX:
            assert policy == os.SCHED_OTHER and nice == os.nice(0)  # a fair share of the CPU
        worker.kill()
        text, other, _, _ = worker.exchange("three")  # a new child takes over
        assert text == "got three" and other != pid
        with pytest.raises(ValueError, match="refused"):
            worker.exchange("refuse")
        assert worker.pid == other  # an answered failure leaves the child as it was
        with pytest.raises(ChildFailed, match="test-echo"):  # a handler's bug ends the child
            worker.exchange("crash")
        assert worker.exchange("four")[0] == "got four"
    finally:
        worker.close()
    assert worker.pid is None


def test_a_child_at_normal_priority_when_asked() -> None:
    worker = ChildWorker(_echo, ("",), name="test-echo", background=False)
    try:
        _, _, policy, nice = worker.exchange("x")
    finally:
        worker.close()
    assert nice == os.nice(0)
    if LINUX:
        assert policy == os.SCHED_OTHER


def test_a_child_that_cannot_start_is_child_failed() -> None:
    worker = ChildWorker(_broken, (), name="test-broken", start_timeout_s=30)
    with pytest.raises(ChildFailed, match="test-broken"):
        worker.exchange("x")
    worker.close()
