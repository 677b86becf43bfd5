"""The ledger's response-cache hits of a period (``kind = 'cache_hit'``): answers served with
no model call, each with what it saved (``saved_nano_usd``: its cost when it was made)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, select

from gateway.ledger.rows import LedgerRow
from gateway.ledger.tables import ledger
from governance.billing.usage import in_period


@dataclass(frozen=True)
class CacheHit:
    request_id: str
    department: str
    project: str
    tag: str
    saved_nano_usd: int


def cache_hits(
    engine: Engine,
    start: datetime,
    end: datetime,
    *,
    up_to_id: int | None = None,
    department: str | None = None,
    project: str | None = None,
) -> list[CacheHit]:
    """The hits with ``start <= created_at < end`` (and ids up to ``up_to_id``), oldest first."""
    t = ledger
    stmt = select(t.c.request_id, t.c.department, t.c.project, t.c.tag, t.c.saved_nano_usd)
    stmt = in_period(stmt, "cache_hit", start, end, None, up_to_id, department, project)
    with engine.connect() as conn:
        return [
            CacheHit(r.request_id, r.department, r.project, r.tag or "", int(r.saved_nano_usd or 0))
            for r in conn.execute(stmt)
        ]


def from_ledger_rows(rows: list[LedgerRow]) -> list[CacheHit]:
    """The hits among ledger rows held in memory (``MemoryLedger``)."""
    return [
        CacheHit(r.request_id, r.department, r.project, r.tag or "", r.saved_nano_usd or 0)
        for r in rows
        if r.kind == "cache_hit"
    ]
