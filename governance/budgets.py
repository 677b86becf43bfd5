"""Budgets: what they are, which apply to a caller, and how they are defined.

A budget caps what one department, project or user may spend per period (a UTC day or a UTC
calendar month). Past its soft limit, requests are downgraded to the cheap route; past its hard
limit, requests are refused with ``BudgetExceeded`` naming the budget.

Spending is counted by a ``BudgetCounter`` (``budget_sql``: one SQL transaction on SQLite or
PostgreSQL; ``budget_redis``: one Lua script) in two steps: ``reserve`` the estimate before the
call (refused if it does not fit under the hard limit of *every* applicable budget: all or
nothing), then ``settle`` the real cost afterwards, releasing the reservation. A reservation is
admitted only if ``spent + reserved + estimate <= hard``, so concurrent callers cannot overrun a
budget by more than what one call costs beyond its own estimate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Literal, Protocol

from sqlalchemy import Connection, delete, select

from governance.billing.money import check_currency
from governance.sql_rules import SqlRules
from governance.tables import budgets as budgets_table
from kernel.errors import BudgetExceeded, InvalidRequest, NotFound
from kernel.principal import Principal

Scope = Literal["department", "project", "user"]
Period = Literal["day", "month"]
SCOPES: tuple[Scope, ...] = ("department", "project", "user")
PERIODS: tuple[Period, ...] = ("day", "month")
NANO = 1_000_000_000


def usd_to_nano(value: str | float | int | Decimal, what: str = "amount") -> int:
    """Exact USD (at most 9 decimals) to integer nano-USD; ``InvalidRequest`` otherwise."""
    try:
        amount = Decimal(str(value).strip().lstrip("$"))
    except InvalidOperation:
        raise InvalidRequest(f"{what}: not a dollar amount: {value!r}") from None
    nano = amount * NANO
    if not amount.is_finite() or nano != nano.to_integral_value():
        raise InvalidRequest(f"{what}: at most 9 decimals (1 nano-USD): {value!r}")
    if nano < 0:
        raise InvalidRequest(f"{what}: cannot be negative: {value!r}")
    return int(nano)


def nano_to_usd_str(nano: int) -> str:
    """Exact decimal string: 1234567 -> '0.001234567'."""
    return str(Decimal(nano) / NANO)


@dataclass(frozen=True)
class Budget:
    id: int
    scope: Scope
    name: str
    period: Period
    hard_limit_nano: int
    soft_limit_nano: int | None = None
    # Limits are nano-units of ``currency``; for the counters a non-USD budget is priced in
    # nano-USD at the rate in force (governance.billing.budget_currency), which then sets
    # ``limit_in_currency_nano`` (the limit as set) and ``rate`` (the rate's label).
    currency: str = "USD"
    limit_in_currency_nano: int | None = None
    rate: str | None = None

    @property
    def label(self) -> str:
        return f"{self.scope}:{self.name}"

    def window(self, now: datetime) -> str:
        """The period ``now`` falls in (UTC): ``2026-06-01`` for a day, ``2026-06`` for a month."""
        now = now.astimezone(UTC)
        return now.strftime("%Y-%m-%d") if self.period == "day" else now.strftime("%Y-%m")

    def applies_to(self, principal: Principal) -> bool:
        subject = {
            "department": principal.department,
            "project": principal.project,
            "user": principal.user_id,
        }[self.scope]
        return bool(subject) and subject == self.name

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "scope": self.scope,
            "name": self.name,
            "period": self.period,
            "currency": self.currency,
            "hard_limit_usd": nano_to_usd_str(self.hard_limit_nano),
            "soft_limit_usd": (
                None if self.soft_limit_nano is None else nano_to_usd_str(self.soft_limit_nano)
            ),
        }
        if self.currency != "USD":
            limit = self.limit_in_currency_nano
            out["hard_limit"] = nano_to_usd_str(self.hard_limit_nano if limit is None else limit)
            out["rate"] = self.rate
            if self.rate is None:  # not priced yet: the stored limits are in ``currency``
                del out["hard_limit_usd"], out["soft_limit_usd"]
        return out


@dataclass(frozen=True)
class BudgetState:
    budget: Budget
    window: str
    spent_nano: int
    reserved_nano: int

    @property
    def over_soft(self) -> bool:
        soft = self.budget.soft_limit_nano
        return soft is not None and self.spent_nano >= soft

    @property
    def over_hard(self) -> bool:
        return self.spent_nano >= self.budget.hard_limit_nano

    @property
    def used_ratio(self) -> float:
        hard = self.budget.hard_limit_nano
        return self.spent_nano / hard if hard else 1.0

    def as_dict(self) -> dict[str, object]:
        return {
            **self.budget.as_dict(),
            "window": self.window,
            "spent_usd": nano_to_usd_str(self.spent_nano),
            "reserved_usd": nano_to_usd_str(self.reserved_nano),
            "spent_nano_usd": self.spent_nano,
            "reserved_nano_usd": self.reserved_nano,
            "used_ratio": round(self.used_ratio, 6),
            "over_soft_limit": self.over_soft,
            "over_hard_limit": self.over_hard,
        }


@dataclass
class Reservation:
    id: str
    amount_nano: int
    budgets: tuple[Budget, ...]
    windows: tuple[str, ...]
    states: list[BudgetState] = field(default_factory=list)  # right after reserving


def exceeded(state: BudgetState, amount_nano: int) -> BudgetExceeded:
    b = state.budget
    priced = ""
    if b.currency != "USD" and b.limit_in_currency_nano is not None:
        priced = f" ({nano_to_usd_str(b.limit_in_currency_nano)} {b.currency} at {b.rate})"
    return BudgetExceeded(
        f"budget {b.label} ({b.period} {state.window}) is exhausted: spent "
        f"${nano_to_usd_str(state.spent_nano)} + reserved ${nano_to_usd_str(state.reserved_nano)}"
        f" of the ${nano_to_usd_str(b.hard_limit_nano)}{priced} hard limit; this request may "
        f"cost up to ${nano_to_usd_str(amount_nano)}",
        details={
            "budget": b.label,
            "scope": b.scope,
            "name": b.name,
            "period": b.period,
            "window": state.window,
            "spent_nano_usd": state.spent_nano,
            "reserved_nano_usd": state.reserved_nano,
            "hard_limit_nano_usd": b.hard_limit_nano,
            "estimate_nano_usd": amount_nano,
            "currency": b.currency,
            "rate": b.rate,
        },
    )


def admits(spent: int, reserved: int, amount: int, hard: int) -> bool:
    """The reservation rule every counter applies (SQL and Lua spell the same test)."""
    return spent + reserved + amount <= hard and spent + reserved < hard


class BudgetCounter(Protocol):
    def reserve(self, budgets: Sequence[Budget], amount_nano: int, now: datetime) -> Reservation:
        """Reserve ``amount_nano`` on every budget, all or nothing (``BudgetExceeded``)."""
        ...

    def settle(self, reservation: Reservation, actual_nano: int) -> list[BudgetState]:
        """Release the reservation and add the real cost; returns the new states."""
        ...

    def settle_many(self, items: Sequence[tuple[Reservation, int]]) -> list[list[BudgetState]]:
        """``settle`` for several reservations at once (one transaction or round trip)."""
        ...

    def usage(self, budgets: Sequence[Budget], now: datetime) -> list[BudgetState]: ...


def _row_budget(row: object) -> Budget:
    m = row._mapping  # type: ignore[attr-defined]
    return Budget(
        id=m["id"],
        scope=m["scope"],
        name=m["name"],
        period=m["period"],
        hard_limit_nano=m["hard_limit_nano"],
        soft_limit_nano=m["soft_limit_nano"],
        currency=m["currency"],
    )


class BudgetBook(SqlRules[list[Budget]]):
    """Budget definitions in SQL (whatever counts the spending), cached for the hot path."""

    def _read(self, conn: Connection) -> list[Budget]:
        t = budgets_table
        return [_row_budget(r) for r in conn.execute(select(t).order_by(t.c.scope, t.c.name))]

    def set(
        self,
        scope: str,
        name: str,
        *,
        period: str,
        hard_usd: str | float | Decimal,
        soft_usd: str | float | Decimal | None = None,
        currency: str = "USD",
    ) -> Budget:
        """Create or replace the budget of ``scope``/``name`` (spending so far is kept).

        ``currency`` other than USD: the limits are amounts of that currency, enforced at the
        rate in force when each request is admitted."""
        if scope not in SCOPES:
            raise InvalidRequest(f"unknown budget scope {scope!r} (one of: {', '.join(SCOPES)})")
        if period not in PERIODS:
            raise InvalidRequest(f"unknown period {period!r} (one of: {', '.join(PERIODS)})")
        name = name.strip()
        if not name or len(name) > 128:
            raise InvalidRequest("a budget needs a name of 1-128 characters")
        hard = usd_to_nano(hard_usd, "hard limit")
        soft = None if soft_usd is None else usd_to_nano(soft_usd, "soft limit")
        if soft is not None and soft > hard:
            raise InvalidRequest(
                f"soft limit ${nano_to_usd_str(soft)} is above the hard limit "
                f"${nano_to_usd_str(hard)}"
            )
        currency = check_currency(currency)
        values = {
            "period": period,
            "currency": currency,
            "hard_limit_nano": hard,
            "soft_limit_nano": soft,
            "updated_at": datetime.now(UTC),
        }
        self._upsert(budgets_table, {"scope": scope, "name": name}, values)
        return self.get(scope, name)

    def get(self, scope: str, name: str) -> Budget:
        t = budgets_table
        with self.engine.connect() as conn:
            row = conn.execute(select(t).where(t.c.scope == scope, t.c.name == name)).first()
        if row is None:
            raise NotFound(f"no budget {scope}:{name}", details={"budget": f"{scope}:{name}"})
        return _row_budget(row)

    def remove(self, scope: str, name: str) -> Budget:
        budget = self.get(scope, name)
        with self.engine.begin() as conn:
            conn.execute(delete(budgets_table).where(budgets_table.c.id == budget.id))
        self.invalidate()
        return budget

    def applicable(self, principal: Principal) -> list[Budget]:
        return [b for b in self.all() if b.applies_to(principal)]

    def cached_applicable(self, principal: Principal) -> list[Budget] | None:
        """``applicable`` from the cache without I/O, or ``None`` when the cache is stale."""
        cached = self._fresh()
        if cached is None:
            return None
        return [b for b in cached if b.applies_to(principal)]
