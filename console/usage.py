"""The usage pages' numbers, read from the rollup's facets within the caller's scope.

Scope is the API's rule for ``GET /v1/usage``, plus the department lead: an admin sees
everyone (or one department, one project, or one user), a department lead their department,
anyone else their own usage.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.sql.elements import ColumnElement

from console.rollup import FACETS
from console.tables import MEASURES, usage_facets
from kernel.errors import InvalidRequest, PermissionDenied
from kernel.principal import Principal, Role

GROUPS = ("department", "project", "user", "model", "route", "day")
# A complete partition of every scope's requests: totals and days are summed from it.
WHOLE = "route"


@dataclass(frozen=True)
class Scope:
    kind: str  # "" (everyone) | "department" | "project" | "user"
    name: str = ""

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.name}" if self.kind else ""

    @property
    def label(self) -> str:
        return f"{self.kind} {self.name}" if self.kind else "everyone"

    @property
    def groups(self) -> list[str]:
        offered = FACETS[self.kind]
        return [g for g in GROUPS if g in offered or g == "day"]


def scope_for(who: Principal, department: str = "", user: str = "", project: str = "") -> Scope:
    """The scope ``who`` may see usage in; ``PermissionDenied`` for anything wider."""
    if who.role == Role.ADMIN:
        if user:
            return Scope("user", user)
        if project:
            return Scope("project", project)
        return Scope("department", department) if department else Scope("")
    if project:  # a project's requests cross departments: only an admin sees all of them
        raise PermissionDenied("only admins may see a project's usage")
    if who.role == Role.DEPT_LEAD and not user:
        if department and department != who.department:
            raise PermissionDenied("a department lead sees only their own department's usage")
        return Scope("department", who.department)
    if (user and user != who.user_id) or (department and department != who.department):
        raise PermissionDenied("only admins may see other callers' usage")
    return Scope("user", who.user_id)


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


def _sums() -> list[ColumnElement[Any]]:
    return [func.coalesce(func.sum(usage_facets.c[m]), 0).label(m) for m in MEASURES]


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
    if group_by not in scope.groups:
        raise InvalidRequest(f"group {scope.label}'s usage by one of: {', '.join(scope.groups)}")
    lo, hi = parse_range(start, end, today or datetime.now(UTC).date())
    t = usage_facets.c

    def facet(dim: str) -> list[ColumnElement[bool]]:
        return [
            t.scope == scope.key,
            t.dim == dim,
            t.day >= lo.isoformat(),
            t.day <= hi.isoformat(),
        ]

    with engine.connect() as conn:
        totals_row = conn.execute(select(*_sums()).where(*facet(WHOLE))).one()
        daily = conn.execute(
            select(t.day.label("key"), *_sums())
            .where(*facet(WHOLE))
            .group_by(t.day)
            .order_by(t.day)
        ).all()
        tiers = conn.execute(
            select(t.value.label("key"), *_sums())
            .where(*facet("tier"))
            .group_by(t.value)
            .order_by(t.value)
        ).all()
        if group_by == "day":
            grouped = daily
        else:
            grouped = conn.execute(
                select(t.value.label("key"), *_sums())
                .where(*facet(group_by))
                .group_by(t.value)
                .order_by(func.sum(t.cost_nano_usd).desc())
                .limit(limit)
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
