"""Money formatting, the one rounding rule, and rates loaded from a file (all or none)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine

from governance.billing.money import convert, format_money
from governance.billing.rates import RateBook
from kernel.errors import InvalidRequest, NotFound


def test_format_money_and_half_even_rounding() -> None:
    assert format_money(Decimal("5000"), "CNY") == "¥5,000.00"
    assert format_money("1234.5", "EUR") == "€1,234.50"
    assert format_money(Decimal("-0.125"), "USD") == "-$0.12"  # half to even
    assert format_money("0.135", "USD") == "$0.14"
    assert format_money("1500.4", "JPY") == "¥1,500"
    assert format_money("3.1", "CHF") == "CHF 3.10"
    with pytest.raises(InvalidRequest, match="unknown currency 'XYZ'"):
        format_money("1", "XYZ")
    # 1 USD = 1e9 nano-USD; 0.5 fen ties go to the even fen
    assert convert(1_250_000, Decimal("4"), "CNY") == Decimal("0.00")  # 0.005 -> 0.00
    assert convert(3_750_000, Decimal("4"), "CNY") == Decimal("0.02")  # 0.015 -> 0.02


def test_rates_load_from_a_file_all_or_none(sqlite_engine: Engine, tmp_path: Path) -> None:
    book = RateBook(sqlite_engine, cache_ttl_s=0)
    good = tmp_path / "rates.csv"
    good.write_text(
        "currency,per_usd,effective_from,source\n"
        "CNY,7.1,2026-06-01,PBOC\nEUR,0.92,2026-06-01,ECB\ncny,7.3,2026-06-16,PBOC\n"
    )
    assert len(book.load_file(good)) == 3
    assert book.load_file(good) == []  # the same rows again: nothing to add
    assert book.rate_on("CNY", date(2026, 6, 15)).per_usd == Decimal("7.1")
    assert book.rate_on("CNY", date(2026, 6, 16)).per_usd == Decimal("7.3")
    assert book.convert(10**9, "CNY", date(2026, 6, 20)).amount == Decimal("7.30")
    with pytest.raises(NotFound, match="no CNY rate is in force on 2026-05-31"):
        book.rate_on("CNY", date(2026, 5, 31))
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "currency,per_usd,effective_from,source\nGBP,0.8,2026-07-01,BoE\nGBP,-1,2026-07-02,BoE\n"
    )
    with pytest.raises(InvalidRequest, match="line 3: GBP per USD must be positive"):
        book.load_file(bad)
    assert book.history("GBP") == []  # nothing of the bad file was stored
    changed = tmp_path / "changed.csv"
    changed.write_text("currency,per_usd,effective_from,source\nCNY,7.2,2026-06-16,typo\n")
    with pytest.raises(InvalidRequest, match="never rewritten"):
        book.load_file(changed)
    with pytest.raises(InvalidRequest, match="USD needs no rate"):
        book.add("USD", "1", "2026-06-01", "x")
    with pytest.raises(InvalidRequest, match="needs the header"):
        book.load_csv("a,b\n1,2\n")
