"""How the console shows money: in the company currency (``LOREGATE_CURRENCY``) at the rate in
force today, or in USD.

Costs are integer nano-USD everywhere (the ledger's unit). Four decimals are shown because a
single call costs fractions of a cent. Invoices convert day by day at each day's rate; the
console's figures are indicative at today's rate, and the usage page says which rate it used.
When no rate of the company currency is in force, figures stay in USD and the page says so.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal

from governance.billing.money import SYMBOLS
from governance.billing.rates import Rate, RateBook
from kernel.errors import NotFound

NANO = Decimal(1_000_000_000)
FOUR = Decimal("0.0001")


def _format(amount: Decimal, code: str) -> str:
    value = amount.quantize(FOUR, rounding=ROUND_HALF_UP)
    sign = "-" if value < 0 else ""
    symbol = SYMBOLS.get(code)
    text = f"{abs(value):,.4f}"
    return f"{sign}{symbol}{text}" if symbol else f"{sign}{code} {text}"


def format_money(nano_usd: int) -> str:
    """``$1,234.5678``."""
    return _format(Decimal(nano_usd) / NANO, "USD")


class MoneyFormat:
    """The console's ``money`` filter: nano-USD in the company currency at today's rate."""

    def __init__(
        self,
        currency: str = "USD",
        rates: RateBook | None = None,
        today: Callable[[], date] = lambda: datetime.now(UTC).date(),
    ) -> None:
        self.currency = currency.upper()
        self.rates = rates
        self.today = today

    def rate(self) -> Rate | None:
        """The rate figures are shown at; ``None``: they are shown in USD."""
        if self.currency == "USD" or self.rates is None:
            return None
        try:
            return self.rates.rate_on(self.currency, self.today())
        except NotFound:
            return None

    def note(self) -> str:
        """What the page says about its figures' currency."""
        if self.currency == "USD":
            return "Amounts in USD."
        rate = self.rate()
        if rate is None:
            return f"Amounts in USD: no {self.currency} rate is in force today."
        return (
            f"Amounts in {rate.currency} at {rate.per_usd} per USD (in force since "
            f"{rate.effective_from.isoformat()}; invoices convert each day at its own rate)."
        )

    def __call__(self, nano_usd: int) -> str:
        rate = self.rate()
        if rate is None:
            return format_money(nano_usd)
        return _format(Decimal(nano_usd) * rate.per_usd / NANO, rate.currency)
