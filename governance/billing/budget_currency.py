"""Budgets set in a company currency, enforced against USD cost at the rate in force.

A budget keeps its limits in nano-units of its own currency (``5,000 CNY`` is
5,000,000,000,000 nano-CNY). Before each reservation its limits are turned into nano-USD at the
rate in force that day, rounded down (the USD limit never allows more than the limit in its
currency), and the budget carries the rate's label, which the counter writes on the
reservation. A USD budget passes through unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from decimal import ROUND_FLOOR, Decimal

from governance.billing.money import EXACT
from governance.billing.rates import USD, RateBook
from governance.budgets import Budget


def _to_usd(nano_units: int, per_usd: Decimal) -> int:
    return int(EXACT.divide(Decimal(nano_units), per_usd).to_integral_value(rounding=ROUND_FLOOR))


def in_usd(budget: Budget, rates: RateBook, now: datetime) -> Budget:
    """``budget`` with its limits in nano-USD at the rate in force on ``now``'s UTC day."""
    if budget.currency == USD:
        return budget
    rate = rates.rate_on(budget.currency, now.astimezone(UTC).date())
    soft = budget.soft_limit_nano
    return replace(
        budget,
        hard_limit_nano=_to_usd(budget.hard_limit_nano, rate.per_usd),
        soft_limit_nano=None if soft is None else _to_usd(soft, rate.per_usd),
        limit_in_currency_nano=budget.hard_limit_nano,
        rate=rate.label,
    )


def all_in_usd(budgets: Sequence[Budget], rates: RateBook | None, now: datetime) -> list[Budget]:
    """Every budget priced in USD; a non-USD budget without a rate book is refused loudly."""
    if rates is None:
        foreign = [b.label for b in budgets if b.currency != USD]
        if foreign:
            raise RuntimeError(f"budgets {foreign} are not in USD and no rate book is configured")
        return list(budgets)
    return [in_usd(b, rates, now) for b in budgets]
