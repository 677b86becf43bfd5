"""``TtlMemo``: fresh values come back, stale ones never do, a full memo drops the expired and
then the oldest, a ttl of 0 keeps nothing."""

from __future__ import annotations

import threading

import pytest

from kernel.ttl_memo import TtlMemo


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_value_is_kept_until_its_ttl_and_not_a_moment_longer() -> None:
    clock = Clock()
    memo: TtlMemo[str, int] = TtlMemo(maxsize=10, ttl_s=5.0, timer=clock)
    memo.put("a", 1)
    clock.now += 4.999
    assert memo.get("a") == 1
    clock.now += 0.001
    assert memo.get("a") is None
    assert memo.get("never") is None


def test_a_renewed_value_replaces_the_old_one_with_a_new_expiry() -> None:
    clock = Clock()
    memo: TtlMemo[str, int] = TtlMemo(maxsize=10, ttl_s=5.0, timer=clock)
    memo.put("a", 1)
    clock.now += 4
    memo.put("a", 2)
    clock.now += 4
    assert memo.get("a") == 2


def test_a_full_memo_drops_expired_entries_first_then_the_oldest() -> None:
    clock = Clock()
    memo: TtlMemo[str, int] = TtlMemo(maxsize=3, ttl_s=5.0, timer=clock)
    memo.put("old", 0)
    clock.now += 3
    memo.put("b", 1)
    memo.put("c", 2)
    clock.now += 2.5  # "old" has expired, b and c have not
    memo.put("d", 3)
    assert (memo.get("b"), memo.get("c"), memo.get("d")) == (1, 2, 3)
    memo.put("e", 4)  # nothing expired: the oldest (b) goes
    assert memo.get("b") is None
    assert (memo.get("c"), memo.get("d"), memo.get("e")) == (2, 3, 4)
    assert len(memo) == 3


def test_clear_forgets_everything_and_a_zero_ttl_keeps_nothing() -> None:
    memo: TtlMemo[str, int] = TtlMemo(maxsize=3, ttl_s=5.0)
    memo.put("a", 1)
    memo.clear()
    assert memo.get("a") is None
    off: TtlMemo[str, int] = TtlMemo(maxsize=3, ttl_s=0)
    off.put("a", 1)
    assert off.get("a") is None and len(off) == 0
    with pytest.raises(ValueError, match="maxsize"):
        TtlMemo(maxsize=0, ttl_s=1)


def test_writers_in_threads_never_exceed_the_size() -> None:
    memo: TtlMemo[int, int] = TtlMemo(maxsize=50, ttl_s=60)

    def write(base: int) -> None:
        for i in range(2_000):
            memo.put(base + i, i)
            memo.get(base + i // 2)

    threads = [threading.Thread(target=write, args=(n * 10_000,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(memo) <= 50


def test_discard_forgets_one_key_only() -> None:
    memo: TtlMemo[str, int] = TtlMemo(maxsize=3, ttl_s=5.0)
    memo.put("a", 1)
    memo.put("b", 2)
    memo.discard("a")
    memo.discard("never")
    assert (memo.get("a"), memo.get("b")) == (None, 2)
