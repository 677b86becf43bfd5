"""The composition root's object graph: built lazily from ``Settings``, closed once.

Each package's parts are built by its own module in ``loregate/wiring/``; this class only
holds them, so nothing is constructed (or imported) until something asks for it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, text

from loregate.database import make_engine, migrate
from loregate.settings import Settings

if TYPE_CHECKING:
    import redis


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


class Container:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._closers: list[Callable[[], Awaitable[None] | None]] = []
        self._parts: dict[str, Any] = {}

    # Shared backends -----------------------------------------------------------------------
    @cached_property
    def engine(self) -> Engine:
        self.settings.home.mkdir(parents=True, exist_ok=True)
        engine = make_engine(self.settings.resolved_database_url)
        migrate(engine)
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

    def part(self, name: str, build: Callable[[Container], Any]) -> Any:
        """Build a named part once (used by the wiring modules)."""
        if name not in self._parts:
            self._parts[name] = build(self)
        return self._parts[name]

    def on_close(self, fn: Callable[[], Awaitable[None] | None]) -> None:
        self._closers.append(fn)

    async def aclose(self) -> None:
        """Close everything that was built, last built first (flushes the ledger)."""
        while self._closers:
            result = self._closers.pop()()
            if asyncio.iscoroutine(result):
                await result

    # Readiness ------------------------------------------------------------------------------
    def readiness(self) -> list[Check]:
        checks = [self._check_database()]
        if self.settings.redis_url:
            checks.append(self._check_redis())
        checks.append(self._check_qdrant())
        return checks

    def _check_database(self) -> Check:
        kind = "postgresql" if self.settings.database_url else "sqlite (embedded)"
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return Check("database", True, kind)
        except Exception as exc:  # readiness reports every failure, whatever its type
            self.__dict__.pop("engine", None)
            return Check("database", False, f"{kind}: {type(exc).__name__}: {exc}")

    def _check_redis(self) -> Check:
        try:
            assert self.redis is not None
            self.redis.ping()
            return Check("redis", True, "redis")
        except Exception as exc:
            return Check("redis", False, f"{type(exc).__name__}: {exc}")

    def _check_qdrant(self) -> Check:
        if not self.settings.qdrant_url:
            return Check("qdrant", True, f"embedded at {self.settings.qdrant_path}")
        import httpx

        try:
            resp = httpx.get(self.settings.qdrant_url.rstrip("/") + "/readyz", timeout=3)
            return Check("qdrant", resp.status_code == 200, f"server: HTTP {resp.status_code}")
        except httpx.HTTPError as exc:
            return Check("qdrant", False, f"server: {type(exc).__name__}: {exc}")
