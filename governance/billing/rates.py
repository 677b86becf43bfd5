"""Pinned exchange rates: how many units of a currency one USD buys, from a date, with a source.

Rates are data (table ``governance_fx_rates``), added by hand, by the CLI or from a CSV file
(``currency,per_usd,effective_from,source``), never fetched. The rate in force on a day is the
latest one whose ``effective_from`` is on or before it. Rates move only forward in time: a new
rate must be effective after the last closed month and after every rate already known for its
currency, so a booked month is never re-priced. USD is always 1.
"""

from __future__ import annotations

import csv
import io
from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Connection, func, insert, select

from governance.billing.money import check_currency, convert, exact, parse_decimal
from governance.billing.periods import Month
from governance.billing.tables import billing_closes, fx_rates
from governance.sql_rules import SqlRules
from kernel.errors import InvalidRequest, NotFound

USD = "USD"


@dataclass(frozen=True)
class Rate:
    currency: str
    per_usd: Decimal  # units of ``currency`` per 1 USD
    effective_from: date
    source: str

    @property
    def label(self) -> str:
        """``CNY 7.2 (2026-06-01)``: what a reservation or an invoice line records."""
        return f"{self.currency} {self.per_usd} ({self.effective_from.isoformat()})"

    def as_dict(self) -> dict[str, str]:
        return {
            "currency": self.currency,
            "per_usd": str(self.per_usd),
            "effective_from": self.effective_from.isoformat(),
            "source": self.source,
        }


IDENTITY = Rate(USD, Decimal(1), date(1970, 1, 1), "identity")


@dataclass(frozen=True)
class Money:
    """A nano-USD figure converted at a pinned rate: exact, and rounded per the one rule."""

    nano_usd: int
    currency: str
    exact: Decimal
    amount: Decimal
    rate: Rate

    @staticmethod
    def usd(nano_usd: int) -> Decimal:
        """``nano_usd`` in USD, rounded like a line."""
        return convert(nano_usd, Decimal(1), USD)


def parse_day(value: str | date, what: str = "effective_from") -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidRequest(f"{what}: not a date (YYYY-MM-DD): {value!r}") from None


class RateBook(SqlRules[dict[str, list[Rate]]]):
    """Every rate by currency (oldest first), cached for the budget check on the hot path."""

    def _read(self, conn: Connection) -> dict[str, list[Rate]]:
        t = fx_rates
        found: dict[str, list[Rate]] = {}
        for r in conn.execute(select(t).order_by(t.c.currency, t.c.effective_from)):
            rate = Rate(r.currency, Decimal(r.per_usd), r.effective_from, r.source)
            found.setdefault(r.currency, []).append(rate)
        return found

    # Reading ----------------------------------------------------------------------------------
    def rate_on(self, currency: str, day: date) -> Rate:
        """The rate of ``currency`` in force on ``day`` (``NotFound`` when none is)."""
        code = check_currency(currency)
        if code == USD:
            return IDENTITY
        rates = self.all().get(code, [])
        i = bisect_right([r.effective_from for r in rates], day)
        if i == 0:
            raise NotFound(
                f"no {code} rate is in force on {day.isoformat()}: add one with "
                f"`loregate billing rates add {code} <per_usd> --from <date> --source <where>`",
                details={"currency": code, "day": day.isoformat()},
            )
        return rates[i - 1]

    def history(self, currency: str | None = None) -> list[Rate]:
        rates = self.all()
        codes = [check_currency(currency)] if currency else sorted(rates)
        return [r for code in codes for r in rates.get(code, [])]

    def convert(self, nano_usd: int, currency: str, day: date) -> Money:
        """``nano_usd`` in ``currency`` at the rate in force on ``day`` (one line's rounding)."""
        rate = self.rate_on(currency, day)
        code = rate.currency if currency.upper() != USD else USD
        return Money(
            nano_usd,
            code,
            exact(nano_usd, rate.per_usd),
            convert(nano_usd, rate.per_usd, code),
            rate,
        )

    # Writing ----------------------------------------------------------------------------------
    def add(
        self, currency: str, per_usd: str | Decimal, effective_from: str | date, source: str
    ) -> Rate:
        """Record a rate; refused (``InvalidRequest``) when it would re-price a closed month or
        back-date before a rate already known for the currency."""
        return self.add_many([(currency, per_usd, effective_from, source)])[0]

    def add_many(self, items: list[tuple[str, str | Decimal, str | date, str]]) -> list[Rate]:
        """Several rates in one transaction, all or none (identical existing rows are kept)."""
        wanted = sorted(
            (self._checked(*item) for item in items), key=lambda r: (r.currency, r.effective_from)
        )
        added: list[Rate] = []
        with self.engine.begin() as conn:
            closed = conn.execute(select(func.max(billing_closes.c.month))).scalar()
            for rate in wanted:
                if self._exists(conn, rate):
                    continue
                self._check_forward(conn, rate, closed)
                conn.execute(
                    insert(fx_rates).values(
                        currency=rate.currency,
                        effective_from=rate.effective_from,
                        per_usd=str(rate.per_usd),
                        source=rate.source,
                        created_at=datetime.now(UTC),
                    )
                )
                added.append(rate)
        self.invalidate()
        return added

    def load_csv(self, text: str) -> list[Rate]:
        """Rates from CSV text with the header ``currency,per_usd,effective_from,source``."""
        reader = csv.DictReader(io.StringIO(text))
        need = {"currency", "per_usd", "effective_from", "source"}
        if reader.fieldnames is None or not need <= set(reader.fieldnames):
            raise InvalidRequest(f"a rates file needs the header {','.join(sorted(need))}")
        items: list[tuple[str, str | Decimal, str | date, str]] = []
        for n, row in enumerate(reader, start=2):
            if not any((v or "").strip() for v in row.values()):
                continue
            try:
                self._checked(row["currency"], row["per_usd"], row["effective_from"], row["source"])
            except InvalidRequest as e:
                raise InvalidRequest(f"line {n}: {e}") from None
            items.append((row["currency"], row["per_usd"], row["effective_from"], row["source"]))
        return self.add_many(items)

    def load_file(self, path: Path) -> list[Rate]:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as e:
            raise InvalidRequest(f"cannot read the rates file {path}: {e}") from None
        return self.load_csv(text)

    @staticmethod
    def _checked(
        currency: str, per_usd: str | Decimal, effective_from: str | date, source: str
    ) -> Rate:
        code = check_currency(currency)
        if code == USD:
            raise InvalidRequest("USD needs no rate: it is the ledger's currency (1 USD = 1 USD)")
        value = parse_decimal(per_usd, f"{code} per USD")
        if value <= 0:
            raise InvalidRequest(f"{code} per USD must be positive: {per_usd!r}")
        if not source.strip():
            raise InvalidRequest("a rate needs its source (e.g. 'PBOC central parity 2026-06-01')")
        return Rate(code, value.normalize(), parse_day(effective_from), source.strip()[:256])

    @staticmethod
    def _exists(conn: Connection, rate: Rate) -> bool:
        t = fx_rates
        row = conn.execute(
            select(t.c.per_usd).where(
                t.c.currency == rate.currency, t.c.effective_from == rate.effective_from
            )
        ).first()
        if row is None:
            return False
        if Decimal(row.per_usd) != rate.per_usd:
            raise InvalidRequest(
                f"a {rate.currency} rate effective {rate.effective_from} already exists "
                f"({row.per_usd}); rates are never rewritten: add a new one from a later date"
            )
        return True

    @staticmethod
    def _check_forward(conn: Connection, rate: Rate, closed: str | None) -> None:
        if closed is not None and rate.effective_from < Month.parse(closed).next().start_day:
            raise InvalidRequest(
                f"{rate.currency} rate from {rate.effective_from} refused: {closed} is closed "
                f"and its invoices are frozen; a rate must be effective from "
                f"{Month.parse(closed).next().start_day} or later",
                details={"closed_month": closed},
            )
        t = fx_rates
        later = conn.execute(
            select(func.max(t.c.effective_from)).where(t.c.currency == rate.currency)
        ).scalar()
        if later is not None and rate.effective_from < later:
            raise InvalidRequest(
                f"{rate.currency} rate from {rate.effective_from} refused: a rate from {later} "
                f"exists and rates change only forward in time",
                details={"latest": later.isoformat()},
            )
