"""The base of the object graph: its lifecycle (what to close, in which order) and the shared
backends every part writes to (the database engines and Redis)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from functools import cached_property
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from loregate.database import make_engine, migrate, writer_engine
from loregate.overrides import Overrides
from loregate.settings import Settings

if TYPE_CHECKING:
    import redis

Closer = Callable[[], Awaitable[None] | None]


class GraphBase:
    def __init__(self, settings: Settings, overrides: Overrides | None = None) -> None:
        self.settings = settings
        self.overrides = overrides or Overrides()
        self._closers: list[Closer] = []

    # Lifecycle ------------------------------------------------------------------------------
    def on_close(self, fn: Closer) -> None:
        self._closers.append(fn)

    async def aclose(self) -> None:
        """Close everything that was built, last built first (flushes the ledger)."""
        while self._closers:
            result = self._closers.pop()()
            if asyncio.iscoroutine(result):
                await result

    def migrate(self) -> None:
        """Bring every package's tables to their latest revision (idempotent)."""
        migrate(self.engine)

    # Shared backends ------------------------------------------------------------------------
    @cached_property
    def engine(self) -> Engine:
        if self.overrides.engine is not None:
            return self.overrides.engine  # the caller's: it disposes of it
        self.settings.home.mkdir(parents=True, exist_ok=True)
        engine = make_engine(self.settings.resolved_database_url)
        self.on_close(engine.dispose)
        return engine

    @cached_property
    def writer_engine(self) -> Engine:
        """On SQLite, the frequent writers get their own engine (``database.writer_engine``)."""
        url = self.settings.resolved_database_url
        if self.overrides.engine is not None or not url.startswith("sqlite"):
            return self.engine  # a caller's engine is used as it is
        engine = writer_engine(url)
        self.on_close(engine.dispose)
        return engine

    @cached_property
    def redis(self) -> redis.Redis | None:
        if not self.settings.redis_url:
            return None
        import redis as redis_lib

        client = redis_lib.Redis.from_url(self.settings.redis_url, socket_timeout=5)
        self.on_close(client.close)
        return client
