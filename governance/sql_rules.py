"""Rules kept in SQL and read on every request, cached for a few seconds.

Budgets (``BudgetBook``) and rate limits (``RateRules``) are a handful of rows that an operator
changes rarely but that every request reads. ``SqlRules`` reads them all in one query, keeps the
result for ``cache_ttl_s`` seconds (0: read every time), and drops it as soon as this process
writes (``_upsert``, ``invalidate``); another process's change shows here once the cache expires.
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from typing import Generic, TypeVar

from sqlalchemy import Connection, Engine, Table, insert, update

T = TypeVar("T")


class SqlRules(ABC, Generic[T]):
    """All the rows of one table as a ``T`` (``_read``), cached for the hot path."""

    def __init__(
        self,
        engine: Engine,
        *,
        cache_ttl_s: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        self.cache_ttl_s = cache_ttl_s
        self._monotonic = monotonic
        self._cached: tuple[float, T] | None = None  # (expires at, rules)
        self._lock = threading.Lock()

    @abstractmethod
    def _read(self, conn: Connection) -> T:
        """Every rule, read from SQL."""

    def all(self) -> T:
        """The rules: from the cache while it is fresh, else read (and cached)."""
        now = self._monotonic()
        with self._lock:
            if self._cached is not None and self._cached[0] > now:
                return self._cached[1]
        with self.engine.connect() as conn:
            found = self._read(conn)
        with self._lock:
            self._cached = (now + self.cache_ttl_s, found)
        return found

    def _fresh(self) -> T | None:
        """The cached rules without I/O, or ``None`` when there are none or they are stale."""
        with self._lock:
            cached = self._cached
        if cached is None or cached[0] <= self._monotonic():
            return None
        return cached[1]

    def invalidate(self) -> None:
        with self._lock:
            self._cached = None

    def _upsert(
        self, table: Table, key: Mapping[str, object], values: Mapping[str, object]
    ) -> None:
        """Set ``values`` on the row whose columns equal ``key``, or insert it (one transaction)."""
        match = [table.c[column] == value for column, value in key.items()]
        with self.engine.begin() as conn:
            if not conn.execute(update(table).where(*match).values(**values)).rowcount:
                conn.execute(insert(table).values({**key, **values}))
        self.invalidate()
