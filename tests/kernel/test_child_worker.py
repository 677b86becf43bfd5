"""A writer's child process: answers over its pipe, runs only on idle cores, comes back after
a crash, and a child that cannot start is an error the caller can act on."""

from __future__ import annotations

import os
import sys
from multiprocessing.connection import Connection

import pytest

from kernel.child_worker import ChildFailed, ChildWorker


def _echo(conn: Connection, prefix: str) -> None:
    conn.send("ready")
    while True:
        try:
            message = conn.recv()
        except EOFError:
            return
        policy = os.sched_getscheduler(0) if sys.platform == "linux" else None
        conn.send((f"{prefix}{message}", os.getpid(), policy, os.nice(0)))


def _broken(conn: Connection) -> None:
    raise RuntimeError("cannot start")


def test_a_child_answers_at_background_priority_and_comes_back_after_a_crash() -> None:
    worker = ChildWorker(_echo, ("got ",), name="test-echo")
    try:
        text, pid, policy, nice = worker.exchange("one")
        assert text == "got one" and pid == worker.pid != os.getpid()
        if sys.platform == "linux":
            assert policy == os.SCHED_IDLE  # only the cores nothing else wants
        assert nice == 19
        assert worker.exchange("two")[1] == pid  # one long-lived child
        worker.kill()
        text, again, _, _ = worker.exchange("three")  # a new child takes over
        assert text == "got three" and again != pid
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
    if sys.platform == "linux":
        assert policy == os.SCHED_OTHER


def test_a_child_that_cannot_start_is_child_failed() -> None:
    worker = ChildWorker(_broken, (), name="test-broken", start_timeout_s=30)
    with pytest.raises(ChildFailed, match="test-broken"):
        worker.exchange("x")
    worker.close()
