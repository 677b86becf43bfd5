"""Money in a currency: exact conversion of nano-USD, the one rounding rule, and display.

Every figure starts as integer nano-USD from the ledger. A conversion multiplies by a pinned
rate (units of the currency per USD) in ``decimal`` with enough precision to be exact, and
the result is rounded **once per invoice line**, to the currency's minor unit with
``ROUND_HALF_EVEN`` (banker's rounding: no drift upward over many lines); totals are sums of
rounded lines, so the departments of a month add up to the company total to the last fen.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Context, Decimal, InvalidOperation

from kernel.errors import InvalidRequest

NANO = Decimal(1_000_000_000)
ROUNDING = ROUND_HALF_EVEN
ROUNDING_RULE = "per line to the currency's minor unit, ROUND_HALF_EVEN, then summed"
# 60 significant digits: nano-USD sums (<= 19 digits) times a rate (<= 20 digits) stay exact
EXACT = Context(prec=60)

# ISO 4217 minor units of the currencies we format; others are refused by name.
MINOR_UNITS: dict[str, int] = {
    "USD": 2,
    "CNY": 2,
    "EUR": 2,
    "GBP": 2,
    "JPY": 0,
    "KRW": 0,
    "HKD": 2,
    "SGD": 2,
    "CHF": 2,
    "CAD": 2,
    "AUD": 2,
    "INR": 2,
    "TWD": 2,
}
SYMBOLS: dict[str, str] = {
    "USD": "$",
    "CNY": "¥",
    "EUR": "€",
    "GBP": "£",
    "JPY": "¥",
    "KRW": "₩",
    "INR": "₹",
}


def check_currency(code: str) -> str:
    """An upper-case ISO 4217 code we know the minor unit of; ``InvalidRequest`` otherwise."""
    value = code.strip().upper()
    if value not in MINOR_UNITS:
        known = ", ".join(sorted(MINOR_UNITS))
        raise InvalidRequest(f"unknown currency {code!r} (one of: {known})")
    return value


def parse_decimal(value: str | int | Decimal, what: str) -> Decimal:
    """A finite decimal from text (``InvalidRequest`` naming ``what`` otherwise)."""
    try:
        number = Decimal(str(value).strip().replace(",", "").replace("_", ""))
    except InvalidOperation:
        raise InvalidRequest(f"{what}: not a number: {value!r}") from None
    if not number.is_finite():
        raise InvalidRequest(f"{what}: not a finite number: {value!r}")
    return number


def exact(nano_usd: int, per_usd: Decimal) -> Decimal:
    """``nano_usd`` in the currency of ``per_usd`` (units per USD), unrounded."""
    return EXACT.divide(EXACT.multiply(Decimal(nano_usd), per_usd), NANO)


def quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-MINOR_UNITS[currency])


def round_minor(amount: Decimal, currency: str) -> Decimal:
    """``amount`` rounded to ``currency``'s minor unit with the one rounding rule."""
    return amount.quantize(quantum(currency), rounding=ROUNDING, context=EXACT)


def convert(nano_usd: int, per_usd: Decimal, currency: str) -> Decimal:
    """One line: ``nano_usd`` converted at ``per_usd`` and rounded (see the module rule)."""
    return round_minor(exact(nano_usd, per_usd), currency)


def usd_exact(nano_usd: int) -> Decimal:
    """Exact USD of a nano-USD figure (9 decimals)."""
    return EXACT.divide(Decimal(nano_usd), NANO).quantize(Decimal("1e-9"), context=EXACT)


def format_money(amount: Decimal | int | str, currency: str) -> str:
    """``¥5,000.00``, ``$12.34``, ``€0.50``, ``CHF 3.10``: grouped, at the minor unit."""
    code = check_currency(currency)
    value = round_minor(parse_decimal(amount, "amount"), code)
    digits = MINOR_UNITS[code]
    sign = "-" if value < 0 else ""
    text = f"{abs(value):,.{digits}f}"
    symbol = SYMBOLS.get(code)
    return f"{sign}{symbol}{text}" if symbol else f"{sign}{code} {text}"
