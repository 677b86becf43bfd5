"""Checks a FOCUS dataset against the 1.2 column list, types and the rules we rely on.

``problems(rows)`` returns what is wrong (empty: valid): a missing or unknown column, a value
of the wrong type, a null where the column allows none, an enumerated value outside its list,
a charge period outside its billing period, a missing quantity on a usage row, and
``PricingQuantity x unit price`` differing from the matching cost.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from governance.billing.focus_columns import (
    BY_NAME,
    CHARGE_CATEGORIES,
    CHARGE_CLASSES,
    CHARGE_FREQUENCIES,
    NAMES,
    PRICING_CATEGORIES,
    SERVICE_CATEGORIES,
)
from governance.billing.money import EXACT

DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
DECIMAL = re.compile(r"^-?\d+(\.\d+)?$")
CURRENCY = re.compile(r"^[A-Z]{3}$")
ENUMS: dict[str, tuple[str | None, ...]] = {
    "ChargeCategory": CHARGE_CATEGORIES,
    "ChargeClass": CHARGE_CLASSES,
    "ChargeFrequency": CHARGE_FREQUENCIES,
    "PricingCategory": PRICING_CATEGORIES,
    "ServiceCategory": SERVICE_CATEGORIES,
}
PRICE_PAIRS = (("ListUnitPrice", "ListCost"), ("ContractedUnitPrice", "ContractedCost"))


def _value_problem(name: str, value: Any) -> str | None:
    column = BY_NAME[name]
    if value is None or value == "":
        return None if column.nullable else f"{name} is null (not allowed)"
    if not isinstance(value, str):
        return f"{name}: {value!r} is not text"
    if column.type == "Decimal" and not DECIMAL.match(value):
        return f"{name}: {value!r} is not a decimal"
    if column.type == "DateTime" and not DATETIME.match(value):
        return f"{name}: {value!r} is not an ISO 8601 UTC date-time"
    if column.type == "JSON":
        try:
            parsed = json.loads(value)
        except ValueError:
            return f"{name}: not JSON"
        if not isinstance(parsed, dict):
            return f"{name}: not a JSON object"
    if name in ENUMS and value not in ENUMS[name]:
        return f"{name}: {value!r} is not one of {ENUMS[name]}"
    if name in ("BillingCurrency", "PricingCurrency") and not CURRENCY.match(value):
        return f"{name}: {value!r} is not an ISO 4217 code"
    return None


def _d(row: Mapping[str, Any], name: str) -> Decimal | None:
    value = row.get(name)
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def row_problems(row: Mapping[str, Any]) -> list[str]:
    found = [f"missing column {n}" for n in NAMES if n not in row]
    found += [f"unknown column {n}" for n in row if n not in BY_NAME]
    found += [p for n in NAMES if n in row if (p := _value_problem(n, row[n])) is not None]
    if found:
        return found
    correction = row.get("ChargeClass") == "Correction"  # may correct an earlier period
    if not row["ChargePeriodStart"] < row["ChargePeriodEnd"]:
        found.append("the charge period ends before it starts")
    if not correction and not (
        row["BillingPeriodStart"] <= row["ChargePeriodStart"]
        and row["ChargePeriodEnd"] <= row["BillingPeriodEnd"]
    ):
        found.append("the charge period is outside its billing period")
    quantity = _d(row, "PricingQuantity")
    usage = row["ChargeCategory"] in ("Usage", "Purchase") and not correction
    if usage and (quantity is None or not row.get("PricingUnit")):
        found.append("a usage row needs PricingQuantity and PricingUnit")
    if row["ChargeCategory"] == "Tax" and quantity is not None:
        found.append("a tax row has no PricingQuantity")
    for price_name, cost_name in PRICE_PAIRS:
        price, cost = _d(row, price_name), _d(row, cost_name)
        if quantity is None or price is None or cost is None or correction:
            continue
        if EXACT.multiply(quantity, price) != cost:
            found.append(f"PricingQuantity x {price_name} != {cost_name}")
    return found


def problems(rows: Iterable[Mapping[str, Any]]) -> list[str]:
    """Every problem, prefixed by its row number (1-based)."""
    return [f"row {i}: {p}" for i, row in enumerate(rows, start=1) for p in row_problems(row)]
