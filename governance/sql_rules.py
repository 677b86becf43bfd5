"""Rules kept in SQL and read on every request, cached for a few seconds.

Budgets (``BudgetBook``) and rate limits (``RateRules``) are a handful of rows that an operator
changes rarely but that every request reads. ``SqlRules`` reads them all in one query, keeps the
result for ``cache_ttl_s`` seconds (0: read every time), and drops it as soon as this process
writes (``_upsert``, ``invalidate``); another process's change shows here once the cache expires.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from typing import Generic, TypeVar

from sqlalchemy import Connection, Engine, Table, insert, update

from kernel.ttl_memo import TtlMemo

T = TypeVar("T")
_ALL = "all"


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
        # One entry (every rule); ttl 0 caches nothing.
        self._cache: TtlMemo[str, T] = TtlMemo(maxsize=1, ttl_s=cache_ttl_s, timer=monotonic)

    @abstractmethod
    def _read(self, conn: Connection) -> T:
        """Every rule, read from SQL."""

    def all(self) -> T:
        """The rules: from the cache while it is fresh, else read (and cached)."""
        cached = self._fresh()
        if cached is not None:
            return cached
        with self.engine.connect() as conn:
            found = self._read(conn)
        self._cache.put(_ALL, found)
        return found

    def _fresh(self) -> T | None:
        """The cached rules without I/O, or ``None`` when there are none or they are stale."""
        return self._cache.get(_ALL)

    def invalidate(self) -> None:
        self._cache.clear()

    def _upsert(
        self, table: Table, key: Mapping[str, object], values: Mapping[str, object]
    ) -> None:
        """Set ``values`` on the row whose columns equal ``key``, or insert it (one transaction)."""
        match = [table.c[column] == value for column, value in key.items()]
        with self.engine.begin() as conn:
            if not conn.execute(update(table).where(*match).values(**values)).rowcount:
                conn.execute(insert(table).values({**key, **values}))
        self.invalidate()
