"""The daily usage rollup, folded in from the ledger by id watermark.

``refresh`` reads the ledger's request rows after the watermark (at most ``batch`` ids at a
time), sums them in SQL per combination of the columns the facets use and day (one pass over
the range), folds those sums into each scope (everyone, each department, each project, each
user), grouping and day, adds them to ``console_usage_facets`` (an upsert) and moves the
watermark, in one transaction. The watermark moves by compare-and-set, so two refreshers (two
workers) never fold a row twice.
A usage page reads one scope and one grouping: a few hundred rows, whatever the ledger holds.

The ledger's writer commits a batch in milliseconds; a row whose id was drawn before the
watermark passed it but committed after would be missed, so a refresh stops before the first
row younger than ``settle_s`` (those wait for the next refresh).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Engine,
    Select,
    String,
    bindparam,
    case,
    cast,
    func,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.elements import ColumnElement

from console.tables import KEY, MEASURES, rollup_state, usage_facets
from gateway.ledger.tables import ledger

STATE = "ledger"


# The groupings each scope offers; ``day`` comes from any complete partition (``route``).
FACETS: dict[str, tuple[str, ...]] = {
    "": ("department", "project", "user", "model", "route", "tier"),
    "department": ("project", "user", "model", "route", "tier"),
    "project": ("user", "model", "route", "tier"),
    "user": ("model", "route", "tier"),
}


def ledger_day(engine: Engine) -> ColumnElement[Any]:
    """A ledger row's UTC day as ``YYYY-MM-DD``."""
    if engine.dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", ledger.c.created_at), "YYYY-MM-DD")
    return func.substr(cast(ledger.c.created_at, String), 1, 10)


# The ledger's columns a facet groups or scopes by, as the combined query names them: every
# grouping the whole company's scope offers (each narrower scope is one of them).
_COLUMNS = FACETS[""]


def _sums() -> list[ColumnElement[Any]]:
    c = ledger.c

    def count_if(cond: ColumnElement[bool]) -> ColumnElement[Any]:
        return func.sum(case((cond, 1), else_=0))

    return [
        func.count().label("requests"),
        count_if(c.outcome == "ok").label("ok"),
        count_if(c.outcome == "error").label("errors"),
        count_if(c.outcome == "rejected").label("rejected"),
        count_if(c.escalations > 0).label("escalated"),
        func.sum(c.input_tokens).label("input_tokens"),
        func.sum(c.output_tokens).label("output_tokens"),
        func.sum(c.cache_write_5m_tokens + c.cache_write_1h_tokens).label("cache_write_tokens"),
        func.sum(c.cache_read_tokens).label("cache_read_tokens"),
        func.sum(c.cost_nano_usd).label("cost_nano_usd"),
    ]


def _combined_query(engine: Engine) -> Select[Any]:
    """The sums of the ledger's request rows with ids in (``:lo``, ``:hi``], per combination of
    every column a facet uses and day: one pass over the range, which ``facet_rows`` folds into
    each facet's sums (one grouped query per facet read the range eighteen times). Built once
    per rollup and run with the range as parameters."""
    c = ledger.c
    columns: list[ColumnElement[Any]] = [
        c.department,
        c.project,
        c.user_id,
        c.model_alias,
        c.route,
        cast(func.coalesce(c.tier, -1), String),
        ledger_day(engine),
    ]
    labelled = [col.label(name) for col, name in zip(columns, (*_COLUMNS, "day"), strict=True)]
    return (
        select(*labelled, *_sums())
        .where(c.kind == "request", c.id > bindparam("lo"), c.id <= bindparam("hi"))
        .group_by(*columns)
    )


def facet_rows(combined: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The upserts of every facet (scope, grouping, value, day) from the combined sums."""
    sums: dict[tuple[str, str, str, str], list[int]] = {}
    for row in combined:
        measures = [int(row[m] or 0) for m in MEASURES]
        for kind, dims in FACETS.items():
            scope = f"{kind}:{row[kind]}" if kind else ""
            for dim in dims:
                key = (scope, dim, str(row[dim]), str(row["day"]))
                found = sums.get(key)
                if found is None:
                    sums[key] = list(measures)
                else:
                    for i, value in enumerate(measures):
                        found[i] += value
    return [
        dict(zip(KEY, key, strict=True)) | dict(zip(MEASURES, values, strict=True))
        for key, values in sums.items()
    ]


class UsageRollup:
    def __init__(
        self,
        engine: Engine,
        *,
        batch: int = 250_000,
        settle_s: float = 2.0,
        now: Any = lambda: datetime.now(UTC),
    ) -> None:
        self.engine = engine
        self.batch = batch
        self.settle_s = settle_s
        self.now = now
        self._query = _combined_query(engine)
        self._upsert_facets = _upsert(engine, usage_facets, KEY, MEASURES)

    def watermark(self) -> int:
        with self.engine.connect() as conn:
            found = conn.execute(
                select(rollup_state.c.last_id).where(rollup_state.c.name == STATE)
            ).scalar()
        return int(found or 0)

    def backlog(self) -> int:
        """Ledger ids not folded in yet (an upper bound: attempt rows count too)."""
        with self.engine.connect() as conn:
            top = conn.execute(select(func.max(ledger.c.id))).scalar()
        return max(0, int(top or 0) - self.watermark())

    def refresh(self, max_batches: int | None = None) -> int:
        """Fold in what the ledger held when the refresh began; returns the number of ledger
        ids passed. Rows written meanwhile wait for the next refresh: under steady traffic,
        rows settle as fast as a step folds them, and a refresh that chased them never ended
        (a thread holding the interpreter lock beside the serving loop, for good)."""
        with self.engine.connect() as conn:
            end = int(conn.execute(select(func.max(ledger.c.id))).scalar() or 0)
        passed = 0
        batches = 0
        while max_batches is None or batches < max_batches:
            step = self._step(end)
            if step == 0:
                break
            passed += step
            batches += 1
        return passed

    def _upper_bound(self, lo: int, end: int) -> int:
        settled = self.now() - timedelta(seconds=self.settle_s)
        with self.engine.connect() as conn:
            top = conn.execute(
                select(func.max(ledger.c.id)).where(
                    ledger.c.id > lo, ledger.c.id <= min(lo + self.batch, end)
                )
            ).scalar()
            if top is None:
                return lo
            young = conn.execute(
                select(func.min(ledger.c.id)).where(
                    ledger.c.id > lo, ledger.c.id <= top, ledger.c.created_at > settled
                )
            ).scalar()
        return int(top) if young is None else int(young) - 1

    def _step(self, end: int) -> int:
        lo = self.watermark()
        if lo >= end:
            return 0
        hi = self._upper_bound(lo, end)
        if hi <= lo:
            return 0
        with self.engine.begin() as conn:
            if lo == 0:
                conn.execute(
                    _upsert(self.engine, rollup_state, ("name",), ()).values(name=STATE, last_id=0)
                )
            moved = conn.execute(
                update(rollup_state)
                .where(rollup_state.c.name == STATE, rollup_state.c.last_id == lo)
                .values(last_id=hi)
            ).rowcount
            if not moved:  # another refresher took this range
                return 0
            combined = [dict(r._mapping) for r in conn.execute(self._query, {"lo": lo, "hi": hi})]
            rows = facet_rows(combined)
            if rows:
                conn.execute(self._upsert_facets, rows)
        return hi - lo


def _upsert(engine: Engine, table: Any, keys: tuple[str, ...], adds: tuple[str, ...]) -> Any:
    """INSERT ... ON CONFLICT (keys) DO UPDATE SET m = m + excluded.m (or DO NOTHING)."""
    dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(table)
    if not adds:
        return stmt.on_conflict_do_nothing(index_elements=list(keys))
    return stmt.on_conflict_do_update(
        index_elements=list(keys),
        set_={m: table.c[m] + stmt.excluded[m] for m in adds},
    )
