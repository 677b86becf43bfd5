"""The FOCUS 1.2 export validates against the column list, types and cost rules, and its
billed cost adds up to the ledger."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import Engine

from gateway.ledger.rows import LedgerRow
from governance.billing.focus_check import problems
from governance.billing.focus_columns import COLUMNS, NAMES
from governance.billing.periods import Month
from governance.billing.rates import RateBook
from governance.billing.service import Billing
from governance.billing.usage import prices_from
from tests.governance.billing.traffic import CONFIG, month_of_traffic, write

JUNE = Month(2026, 6)


def test_the_focus_export_validates_and_adds_up_to_the_ledger(engine: Engine) -> None:
    """On SQLite and PostgreSQL."""
    rows = month_of_traffic(engine, per_day=4, seed=3)
    write(
        engine,
        [
            LedgerRow(
                kind="attempt",
                request_id="x",
                step=1,
                outcome="ok",
                created_at=datetime(2026, 6, 9, tzinfo=UTC),
                department="eng",
                model_alias="retired-model",
                cost_nano_usd=123_456,
            )
        ],
    )
    rates = RateBook(engine)
    rates.add("EUR", "0.9", "2026-06-01", "ECB reference rate")
    bill = Billing(engine, rates, prices_from(CONFIG), currency="EUR", issuer="Example GmbH")

    assert len(COLUMNS) == 57 and len(set(NAMES)) == 57
    data = list(csv.DictReader(io.StringIO(bill.focus(JUNE, "csv").decode())))
    as_null = [{k: (v if v != "" else None) for k, v in r.items()} for r in data]
    assert problems(as_null) == []
    assert list(data[0]) == list(NAMES)
    # billed in EUR at the pinned rate; priced in USD beside it, both tracing to the ledger
    total_nano = sum(r.cost_nano_usd for r in rows if r.kind == "request") + 123_456
    usd = sum(Decimal(r["PricingCurrencyEffectiveCost"]) for r in data)
    eur = sum(Decimal(r["BilledCost"]) for r in data)
    assert usd * 10**9 == total_nano and eur == usd * Decimal("0.9")
    adjustment = [r for r in data if r["ChargeCategory"] == "Adjustment"]
    assert len(adjustment) == 1 and adjustment[0]["PricingQuantity"] == ""
    assert {json.loads(r["Tags"]).get("loregate:tag") for r in data} >= {"cc-100", None}
    jsonl = [json.loads(line) for line in bill.focus(JUNE, "jsonl").decode().splitlines()]
    assert problems(jsonl) == [] and len(jsonl) == len(data)

    # the validator catches what a FOCUS reader would reject
    bad = dict(
        jsonl[0], BilledCost=None, ChargePeriodStart="2026-06-01 00:00", ChargeCategory="Spend"
    )
    bad["ContractedCost"] = str(Decimal(bad["ContractedCost"]) + 1)
    found = " | ".join(problems([bad, {k: v for k, v in jsonl[0].items() if k != "Tags"}]))
    for expected in (
        "row 1: BilledCost is null",
        "ChargePeriodStart",
        "ChargeCategory",
        "row 2: missing column Tags",
    ):
        assert expected in found
    priced = next(r for r in jsonl if r["ChargeCategory"] == "Usage")
    wrong = dict(priced, ContractedCost=str(Decimal(priced["ContractedCost"]) + 1))
    assert problems([wrong]) == ["row 1: PricingQuantity x ContractedUnitPrice != ContractedCost"]
