"""``TtlMemo``: values kept for a few seconds, read on every request without a lock.

The API key cache and the cached budget and rate-limit rules are read by every model call (the
prompt versions and console sessions keep theirs the same way) and written rarely (a miss, a
revocation, an operator's change). ``cachetools.TTLCache`` behind a lock cost about thirty
Python calls a read (the lock, the timer's context, the expiry walk); here a read is one dict
lookup and a comparison. Each entry holds its own expiry, so a stale one is never returned;
expired entries are dropped when the memo is full, then the oldest. Writes take a lock
(eviction walks the dict); reads need none, since a dict lookup and a tuple are atomic under
the interpreter lock.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class TtlMemo(Generic[K, V]):
    def __init__(
        self, *, maxsize: int, ttl_s: float, timer: Callable[[], float] = time.monotonic
    ) -> None:
        if maxsize < 1:
            raise ValueError(f"maxsize must be at least 1, not {maxsize}")
        self.maxsize = maxsize
        self.ttl_s = ttl_s
        self.timer = timer
        self._entries: dict[K, tuple[V, float]] = {}
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        """The value kept for ``key`` while it is fresh, else ``None``."""
        entry = self._entries.get(key)
        if entry is None or self.timer() >= entry[1]:
            return None
        return entry[0]

    def put(self, key: K, value: V) -> None:
        """Keep ``value`` for ``ttl_s`` seconds (a ttl of 0 keeps nothing)."""
        if self.ttl_s <= 0:
            return
        now = self.timer()
        with self._lock:
            entries = self._entries
            entries.pop(key, None)  # a renewed entry is the newest
            if len(entries) >= self.maxsize:
                for stale in [k for k, (_, expires) in entries.items() if expires <= now]:
                    del entries[stale]
                while len(entries) >= self.maxsize:
                    del entries[next(iter(entries))]
            entries[key] = (value, now + self.ttl_s)

    def discard(self, key: K) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._entries = {}

    def __len__(self) -> int:
        return len(self._entries)
