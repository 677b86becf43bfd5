"""The ledger as a FOCUS 1.2 dataset: one row per day, department, project, allocation tag,
model and token kind, with FinOps Foundation column names and types (``focus_columns``).

Costs are billed in the company currency at the rate in force that day (exact, unrounded:
FOCUS data is usage, the invoice rounds); ``PricingCurrency`` is USD, the currency prices are
set in, with the USD figures beside them. Every token kind is priced per token, so
``PricingQuantity x ContractedUnitPrice = ContractedCost`` holds exactly; ledger cost the
price list does not explain is an ``Adjustment`` row without a quantity. Loregate charges no
discounts or commitments: list, contracted, effective and billed cost are equal.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from governance.billing.focus_columns import NAMES
from governance.billing.money import EXACT, NANO, exact
from governance.billing.periods import Month
from governance.billing.rates import USD, RateBook
from governance.billing.usage import OTHER, Cell, CellKey

SERVICE_NAME = "loregate model gateway"
DESCRIPTIONS = {
    "input": "input tokens",
    "output": "output tokens",
    "cache_write_5m": "prompt-cache write tokens (5 minutes)",
    "cache_write_1h": "prompt-cache write tokens (1 hour)",
    "cache_read": "prompt-cache read tokens",
    OTHER: "ledger cost outside the current price list",
}


def _ts(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _dec(value: Decimal) -> str:
    """A plain decimal (no exponent), trailing zeros dropped."""
    text = format(value.normalize(context=EXACT), "f")
    return text if text != "-0" else "0"


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return start, start + timedelta(days=1)


def focus_rows(
    cells: dict[CellKey, Cell],
    rates: RateBook,
    month: Month,
    *,
    currency: str,
    issuer: str,
    providers: dict[str, tuple[str, str]],
    correction: bool = False,
) -> Iterator[dict[str, Any]]:
    """FOCUS rows of cells billed in ``month``. ``providers``: model alias -> (provider, model
    id). ``correction``: late rows of a closed month (``ChargeClass`` Correction, their charge
    period the day they were consumed, their billing period ``month``)."""
    for key in sorted(cells):
        cell = cells[key]
        rate = rates.rate_on(currency, key.day)
        cost = exact(cell.nano_usd, rate.per_usd)
        usd = exact(cell.nano_usd, Decimal(1))
        priced = key.kind != OTHER and cell.tokens > 0
        unit = Decimal(cell.nano_usd) / cell.tokens if priced else None
        unit_usd = EXACT.divide(unit, NANO) if unit is not None else None
        unit_billed = EXACT.multiply(unit_usd, rate.per_usd) if unit_usd is not None else None
        provider, model_id = providers.get(key.model, ("", ""))
        start, end = _day_bounds(key.day)
        tags = {
            k: v
            for k, v in (
                ("loregate:department", key.department),
                ("loregate:project", key.project),
                ("loregate:tag", key.tag),
            )
            if v
        }
        row: dict[str, Any] = dict.fromkeys(NAMES)
        row.update(
            BilledCost=_dec(cost),
            EffectiveCost=_dec(cost),
            ListCost=_dec(cost),
            ContractedCost=_dec(cost),
            BillingAccountId=issuer,
            BillingAccountName=issuer,
            BillingAccountType="Organization",
            BillingCurrency=currency,
            BillingPeriodStart=_ts(month.start),
            BillingPeriodEnd=_ts(month.end),
            ChargeCategory="Usage" if priced else "Adjustment",
            ChargeClass="Correction" if correction else None,
            ChargeDescription=f"{key.model} {DESCRIPTIONS.get(key.kind, key.kind)}",
            ChargeFrequency="Usage-Based",
            ChargePeriodStart=_ts(start),
            ChargePeriodEnd=_ts(end),
            InvoiceId=f"LG-{month}-DEPA-{key.department}",
            InvoiceIssuerName=issuer,
            ProviderName=provider or "unknown",
            PublisherName=provider or "unknown",
            ServiceCategory="AI and Machine Learning",
            ServiceSubcategory="Generative AI",
            ServiceName=SERVICE_NAME,
            ResourceId=model_id or key.model,
            ResourceName=key.model,
            ResourceType="Model",
            SubAccountId=key.department or None,
            SubAccountName=key.department or None,
            SubAccountType="Department" if key.department else None,
            Tags=json.dumps(tags, sort_keys=True, ensure_ascii=False),
        )
        if priced:
            assert unit_billed is not None and unit_usd is not None
            row.update(
                PricingQuantity=str(cell.tokens),
                PricingUnit="Tokens",
                ConsumedQuantity=str(cell.tokens),
                ConsumedUnit="Tokens",
                ListUnitPrice=_dec(unit_billed),
                ContractedUnitPrice=_dec(unit_billed),
                PricingCategory="Standard",
                SkuId=f"{key.model}:{key.kind}",
                SkuMeter=key.kind,
                SkuPriceId=f"{key.model}:{key.kind}:{_dec(unit_usd)}",
                SkuPriceDetails=json.dumps({"TokenKind": key.kind}, sort_keys=True),
            )
        if currency != USD:
            row.update(
                PricingCurrency=USD,
                PricingCurrencyEffectiveCost=_dec(usd),
                PricingCurrencyListUnitPrice=_dec(unit_usd) if unit_usd is not None else None,
                PricingCurrencyContractedUnitPrice=(
                    _dec(unit_usd) if unit_usd is not None else None
                ),
            )
        yield row


def to_csv(rows: Iterator[dict[str, Any]]) -> bytes:
    """CSV with the FOCUS column names as the header; a null is an empty field."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(NAMES)
    for row in rows:
        w.writerow(["" if row[n] is None else row[n] for n in NAMES])
    return out.getvalue().encode("utf-8")


def to_jsonl(rows: Iterator[dict[str, Any]]) -> bytes:
    return "".join(
        json.dumps(row, ensure_ascii=False, sort_keys=False) + "\n" for row in rows
    ).encode("utf-8")
