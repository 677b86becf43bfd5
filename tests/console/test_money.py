"""The console shows money in the company currency at the rate in force today, and says so;
in USD (and says why) when no rate of that currency is in force."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from console.money import MoneyFormat, format_money
from governance.billing.rates import RateBook
from tests.governance.helpers import migrated_engine


def test_figures_in_the_company_currency_at_todays_rate(tmp_path: Path) -> None:
    engine = migrated_engine(f"sqlite:///{tmp_path / 'm.db'}")
    rates = RateBook(engine, cache_ttl_s=0)
    rates.add("CNY", "7.2", "2026-06-01", "PBOC central parity 2026-06-01")
    rates.add("CNY", "7.3", "2026-06-16", "PBOC central parity 2026-06-16")
    day = date(2026, 6, 20)
    cny = MoneyFormat("cny", rates, today=lambda: day)
    assert cny(1_000_000_000) == "¥7.3000"  # the rate in force today, not the first one
    assert cny(12_345_678) == "¥0.0901"  # a call's cost keeps four decimals
    assert "7.3 per USD" in cny.note() and "2026-06-16" in cny.note()
    day = date(2026, 5, 1)  # before any CNY rate: USD, and the page says why
    assert cny(1_000_000_000) == "$1.0000" == format_money(1_000_000_000)
    assert cny.note() == "Amounts in USD: no CNY rate is in force today."
    assert MoneyFormat()(-2_500_000_000) == "-$2.5000"
    engine.dispose()
