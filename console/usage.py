"""The usage pages' numbers, read from the daily rollup within the caller's scope.

Scope is the API's rule for ``GET /v1/usage``, plus the department lead: an admin sees
everyone (and may filter), a department lead their department, anyone else their own usage.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.sql.elements import ColumnElement

from console.tables import MEASURES, usage_daily
from kernel.errors import InvalidRequest, PermissionDenied
from kernel.principal import Principal, Role

GROUPS = {
    "department": usage_daily.c.department,
    "project": usage_daily.c.project,
    "user": usage_daily.c.user_id,
    "model": usage_daily.c.model,
    "route": usage_daily.c.route,
    "day": usage_daily.c.day,
}
FILTERS = ("department", "project", "user")


@dataclass(frozen=True)
class Scope:
    filters: dict[str, str]
    label: str


def scope_for(who: Principal, asked: dict[str, str]) -> Scope:
    """The filters ``who`` may see usage with; ``PermissionDenied`` for anything wider."""
    asked = {k: v for k, v in asked.items() if v and k in FILTERS}
    if who.role == Role.ADMIN:
        return Scope(asked, "everyone" if not asked else ", ".join(asked.values()))
    if who.role == Role.DEPT_LEAD:
        if asked.get("department", who.department) != who.department:
            raise PermissionDenied("a department lead sees only their own department's usage")
        return Scope({**asked, "department": who.department}, f"department {who.department}")
    if (
        any(
            asked.get(k) and asked[k] != own
            for k, own in (("department", who.department), ("project", who.project))
        )
        or asked.get("user", who.user_id) != who.user_id
    ):
        raise PermissionDenied("only admins may see other callers' usage")
    return Scope({"user": who.user_id}, f"user {who.user_id}")


@dataclass
class UsageReport:
    start: date
    end: date
    group_by: str
    totals: dict[str, int]
    rows: list[dict[str, Any]]
    daily: list[dict[str, Any]]
    tiers: list[dict[str, Any]]
    derived: dict[str, float] = field(default_factory=dict)


def parse_range(start: str | None, end: str | None, today: date) -> tuple[date, date]:
    try:
        hi = date.fromisoformat(end) if end else today
        lo = date.fromisoformat(start) if start else hi - timedelta(days=29)
    except ValueError:
        raise InvalidRequest("dates must be YYYY-MM-DD") from None
    if lo > hi:
        raise InvalidRequest(f"the range starts ({lo}) after it ends ({hi})")
    if (hi - lo).days > 731:
        raise InvalidRequest("a range is at most two years")
    return lo, hi


def _sum(name: str) -> ColumnElement[Any]:
    return func.coalesce(func.sum(usage_daily.c[name]), 0).label(name)


def report(
    engine: Engine,
    scope: Scope,
    group_by: str,
    start: str | None = None,
    end: str | None = None,
    *,
    today: date | None = None,
    limit: int = 50,
) -> UsageReport:
    if group_by not in GROUPS:
        raise InvalidRequest(f"group by one of: {', '.join(GROUPS)}")
    lo, hi = parse_range(start, end, today or datetime.now(UTC).date())
    t = usage_daily.c
    conds = [t.day >= lo.isoformat(), t.day <= hi.isoformat()]
    column = {"department": t.department, "project": t.project, "user": t.user_id}
    conds += [column[k] == v for k, v in scope.filters.items()]
    sums = [_sum(m) for m in MEASURES]
    key = GROUPS[group_by]
    with engine.connect() as conn:
        totals_row = conn.execute(select(*sums).where(*conds)).one()
        order = key if group_by == "day" else func.sum(t.cost_nano_usd).desc()
        grouped = conn.execute(
            select(key.label("key"), *sums).where(*conds).group_by(key).order_by(order).limit(limit)
        ).all()
        daily = conn.execute(
            select(t.day.label("key"), *sums).where(*conds).group_by(t.day).order_by(t.day)
        ).all()
        tiers = conn.execute(
            select(t.tier.label("key"), *sums).where(*conds).group_by(t.tier).order_by(t.tier)
        ).all()
    totals = {m: int(totals_row._mapping[m]) for m in MEASURES}
    prompt = totals["input_tokens"] + totals["cache_write_tokens"] + totals["cache_read_tokens"]
    n = totals["requests"]
    return UsageReport(
        start=lo,
        end=hi,
        group_by=group_by,
        totals=totals,
        rows=[dict(r._mapping) for r in grouped],
        daily=[dict(r._mapping) for r in daily],
        tiers=[dict(r._mapping) for r in tiers],
        derived={
            "cache_read_share": totals["cache_read_tokens"] / prompt if prompt else 0.0,
            "escalation_rate": totals["escalated"] / n if n else 0.0,
            "refusal_rate": totals["rejected"] / n if n else 0.0,
            "failure_rate": totals["errors"] / n if n else 0.0,
        },
    )
