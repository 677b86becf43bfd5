"""Billing, call exports and usage summaries, read from the gateway ledger (``gateway_ledger``).

Every figure comes from the ledger's integer nano-USD and token columns, summed by the
database, so an export's total equals the ledger's to the last nano-dollar. Billing by
``model`` sums the attempt rows (an escalated request spent money on two models); every other
grouping sums the request rows (one a request; its cost is the sum of its attempts).

Time ranges are half-open ``[start, end)`` in UTC. A date alone as the end (``--to
2026-06-30``) means the end of that day.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

from sqlalchemy import ColumnElement, Engine, func, select

from gateway.ledger.tables import ledger
from governance.budgets import nano_to_usd_str
from kernel.errors import InvalidRequest

GroupBy = Literal["department", "project", "user", "model", "route"]
GROUP_COLUMNS: dict[str, Any] = {
    "department": ledger.c.department,
    "project": ledger.c.project,
    "user": ledger.c.user_id,
    "model": ledger.c.model_alias,
    "route": ledger.c.route,
}
TOKEN_COLUMNS = (
    "input_tokens",
    "output_tokens",
    "cache_write_5m_tokens",
    "cache_write_1h_tokens",
    "cache_read_tokens",
)
FILTERS = {"department": "department", "project": "project", "user": "user_id", "route": "route"}


def parse_when(text: str, *, end: bool = False) -> datetime:
    """``2026-06-01`` or an ISO datetime (UTC unless it says otherwise)."""
    text = text.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            if end:
                day += timedelta(days=1)
            return datetime.combine(day, time(0), tzinfo=UTC)
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidRequest(
            f"bad date {text!r}: use YYYY-MM-DD or an ISO datetime like 2026-06-01T08:00:00Z"
        ) from None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def period(
    start: str | None, end: str | None, *, now: datetime | None = None
) -> tuple[datetime, datetime]:
    """The range asked for; by default the current calendar month up to now."""
    now = now or datetime.now(UTC)
    lo = (
        parse_when(start)
        if start
        else now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    )
    hi = parse_when(end, end=True) if end else now + timedelta(seconds=1)
    if hi <= lo:
        raise InvalidRequest(
            f"empty range: --to ({hi.isoformat()}) is not after --from ({lo.isoformat()})"
        )
    return lo, hi


def _where(kind: str, lo: datetime, hi: datetime, filters: dict[str, str]) -> list[Any]:
    conds: list[ColumnElement[bool]] = [
        ledger.c.kind == kind,
        ledger.c.created_at >= lo,
        ledger.c.created_at < hi,
    ]
    for name, value in filters.items():
        if name not in FILTERS:
            raise InvalidRequest(f"unknown filter {name!r} (one of: {', '.join(FILTERS)})")
        if value:
            conds.append(getattr(ledger.c, FILTERS[name]) == value)
    return conds


@dataclass(frozen=True)
class BillingLine:
    group: str
    requests: int
    tokens: dict[str, int]
    cost_nano_usd: int

    def as_dict(
        self, group_by: str, money: Callable[[int], dict[str, object]] | None = None
    ) -> dict[str, Any]:
        """The line; with ``money`` (nano-USD -> ``GovernanceParts.in_currency``), also its
        cost in the company currency: ``currency``, ``amount`` and the ``rate`` used."""
        row: dict[str, Any] = {
            group_by: self.group,
            "requests": self.requests,
            **self.tokens,
            "cost_nano_usd": self.cost_nano_usd,
            "cost_usd": nano_to_usd_str(self.cost_nano_usd),
        }
        if money is not None:
            shown = money(self.cost_nano_usd)
            row.update({k: shown.get(k) for k in CURRENCY_COLUMNS})
        return row


def billing(
    engine: Engine,
    lo: datetime,
    hi: datetime,
    group_by: str,
    filters: dict[str, str] | None = None,
) -> list[BillingLine]:
    if group_by not in GROUP_COLUMNS:
        raise InvalidRequest(
            f"unknown --group-by {group_by!r} (one of: {', '.join(GROUP_COLUMNS)})"
        )
    col = GROUP_COLUMNS[group_by]
    kind = "attempt" if group_by == "model" else "request"
    query = (
        select(
            col.label("grp"),
            func.count().label("requests"),
            *[func.coalesce(func.sum(getattr(ledger.c, t)), 0).label(t) for t in TOKEN_COLUMNS],
            func.coalesce(func.sum(ledger.c.cost_nano_usd), 0).label("cost"),
        )
        .where(*_where(kind, lo, hi, filters or {}))
        .group_by(col)
        .order_by(col)
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return [
        BillingLine(
            group=str(r.grp),
            requests=int(r.requests),
            tokens={t: int(getattr(r, t)) for t in TOKEN_COLUMNS},
            cost_nano_usd=int(r.cost),
        )
        for r in rows
    ]


def ledger_total_nano(
    engine: Engine, lo: datetime, hi: datetime, filters: dict[str, str] | None = None
) -> int:
    """The ledger's own total for the range (request rows): what every export must add up to."""
    query = select(func.coalesce(func.sum(ledger.c.cost_nano_usd), 0)).where(
        *_where("request", lo, hi, filters or {})
    )
    with engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


CALL_COLUMNS = [c.name for c in ledger.columns if c.name != "id"]


def calls(
    engine: Engine,
    lo: datetime,
    hi: datetime,
    *,
    attempts: bool = False,
    filters: dict[str, str] | None = None,
    batch: int = 2000,
) -> Iterator[dict[str, Any]]:
    """The invocation log: request rows (and their attempts) in time order, streamed."""
    conds = _where("request", lo, hi, filters or {})
    if attempts:
        conds[0] = ledger.c.kind.in_(["request", "attempt"])
    last_id = 0
    while True:
        query = (
            select(ledger).where(*conds, ledger.c.id > last_id).order_by(ledger.c.id).limit(batch)
        )
        with engine.connect() as conn:
            rows = conn.execute(query).all()
        if not rows:
            return
        for r in rows:
            last_id = r.id
            item = {c: getattr(r, c) for c in CALL_COLUMNS}
            created = item["created_at"]
            if isinstance(created, datetime):
                if created.tzinfo is None:
                    created = created.replace(tzinfo=UTC)
                item["created_at"] = created.isoformat()
            item["cost_usd"] = nano_to_usd_str(int(item["cost_nano_usd"]))
            yield item


def to_csv(rows: Iterable[dict[str, Any]], columns: list[str]) -> Iterator[str]:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    yield buf.getvalue()
    for row in rows:
        buf.seek(0)
        buf.truncate()
        writer.writerow({k: ("" if v is None else v) for k, v in row.items()})
        yield buf.getvalue()


def to_jsonl(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    for row in rows:
        yield json.dumps(row, ensure_ascii=False, default=str) + "\n"


# The company-currency columns: the period's cost at the rate in force on its last day (a
# display figure, as GET /v1/usage's; invoices convert day by day).
CURRENCY_COLUMNS = ("currency", "amount", "rate")


def billing_columns(group_by: str, currency: bool = False) -> list[str]:
    base = [group_by, "requests", *TOKEN_COLUMNS, "cost_nano_usd", "cost_usd"]
    return [*base, *CURRENCY_COLUMNS] if currency else base


def render(rows: Iterable[dict[str, Any]], fmt: str, columns: list[str]) -> Iterator[str]:
    if fmt == "csv":
        return to_csv(rows, columns)
    if fmt == "jsonl":
        return to_jsonl(rows)
    raise InvalidRequest(f"unknown --format {fmt!r} (one of: csv, jsonl)")


def summary(
    engine: Engine, lo: datetime, hi: datetime, filters: dict[str, str] | None = None
) -> dict[str, Any]:
    """Totals for a range: requests by outcome, tokens, cost."""
    conds = _where("request", lo, hi, filters or {})
    query = (
        select(
            ledger.c.outcome,
            func.count().label("n"),
            *[func.coalesce(func.sum(getattr(ledger.c, t)), 0).label(t) for t in TOKEN_COLUMNS],
            func.coalesce(func.sum(ledger.c.cost_nano_usd), 0).label("cost"),
        )
        .where(*conds)
        .group_by(ledger.c.outcome)
    )
    totals = {t: 0 for t in TOKEN_COLUMNS}
    outcomes: dict[str, int] = {}
    cost = 0
    with engine.connect() as conn:
        for r in conn.execute(query):
            outcomes[str(r.outcome)] = int(r.n)
            cost += int(r.cost)
            for t in TOKEN_COLUMNS:
                totals[t] += int(getattr(r, t))
    return {
        "from": lo.isoformat(),
        "to": hi.isoformat(),
        "requests": sum(outcomes.values()),
        "outcomes": outcomes,
        "tokens": totals,
        "cost_nano_usd": cost,
        "cost_usd": nano_to_usd_str(cost),
    }
