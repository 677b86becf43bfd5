"""``GET /readyz``: every configured backend answers, and the schema is up to date.

Each check names its backend and says what is wrong (a database that is down, a migration
that has not run, a Redis or Qdrant server that does not answer).
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from sqlalchemy import text

from loregate.database import pending_migrations
from loregate.graph import Loregate


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def readiness(graph: Loregate) -> list[Check]:
    checks = [database(graph)]
    if graph.settings.redis_url:
        checks.append(redis(graph))
    checks.append(qdrant(graph))
    return checks


def database(graph: Loregate) -> Check:
    kind = "postgresql" if graph.settings.database_url else "sqlite (embedded)"
    try:
        with graph.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        pending = pending_migrations(graph.engine)
    except Exception as exc:  # readiness reports every failure, whatever its type
        return Check("database", False, f"{kind}: {type(exc).__name__}: {exc}")
    if pending:
        return Check(
            "database",
            False,
            f"{kind}: migrations pending ({', '.join(pending)}): run `loregate migrate`",
        )
    return Check("database", True, kind)


def redis(graph: Loregate) -> Check:
    try:
        assert graph.redis is not None
        graph.redis.ping()
        return Check("redis", True, "redis")
    except Exception as exc:
        return Check("redis", False, f"{type(exc).__name__}: {exc}")


def qdrant(graph: Loregate) -> Check:
    s = graph.settings
    if not s.qdrant_url:
        return Check("qdrant", True, f"embedded at {s.qdrant_path}")
    try:
        resp = httpx.get(s.qdrant_url.rstrip("/") + "/readyz", timeout=3)
        return Check("qdrant", resp.status_code == 200, f"server: HTTP {resp.status_code}")
    except httpx.HTTPError as exc:
        return Check("qdrant", False, f"server: {type(exc).__name__}: {exc}")
