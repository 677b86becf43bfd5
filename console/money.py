"""How the console shows money: one function, so a currency choice changes one place.

Costs are integer nano-USD everywhere (the ledger's unit); the console shows USD today.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

NANO = Decimal(1_000_000_000)


def format_money(nano_usd: int) -> str:
    """``$1,234.5678`` (four decimals below a dollar's hundredth matter for per-call costs)."""
    usd = (Decimal(nano_usd) / NANO).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
    sign = "-" if usd < 0 else ""
    return f"{sign}${abs(usd):,.4f}"
