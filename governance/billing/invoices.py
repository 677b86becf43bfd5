"""An invoice: one department's (or project's) month, line by line, in both currencies.

A line is one (allocation tag, model, token kind, rate in force) of the month's ledger cells:
its requests, tokens and exact nano-USD, then USD and the company currency each rounded once
(``money.ROUNDING_RULE``); totals are sums of lines. A mid-month rate change splits a model's
kind into one line per rate, each line naming the rate it used. Late ledger rows of a closed
month appear as correction lines (debit, or credit when negative) of the next open month,
never as an edit of the closed one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from governance.billing.money import ROUNDING_RULE, convert, format_money
from governance.billing.periods import Month
from governance.billing.rates import Rate, RateBook
from governance.billing.usage import Cell, CellKey

Scope = Literal["department", "project"]
SCOPES: tuple[Scope, ...] = ("department", "project")
KIND_LABELS = {
    "input": "input tokens",
    "output": "output tokens",
    "cache_write_5m": "cache write (5 min) tokens",
    "cache_write_1h": "cache write (1 h) tokens",
    "cache_read": "cache read tokens",
    "other": "ledger cost outside the current price list",
}


@dataclass(frozen=True)
class InvoiceLine:
    tag: str
    model: str
    kind: str
    rate: Rate
    requests: int
    tokens: int
    nano_usd: int
    usd: Decimal
    amount: Decimal
    correction_of: str = ""  # the closed month a late row belongs to

    def as_dict(self, currency: str) -> dict[str, Any]:
        return {
            "tag": self.tag,
            "model": self.model,
            "token_kind": self.kind,
            "description": KIND_LABELS.get(self.kind, self.kind),
            "requests": self.requests,
            "tokens": self.tokens,
            "nano_usd": self.nano_usd,
            "usd": str(self.usd),
            "rate": str(self.rate.per_usd),
            "rate_effective_from": self.rate.effective_from.isoformat(),
            "rate_source": self.rate.source,
            "amount": str(self.amount),
            "currency": currency,
            "correction_of": self.correction_of or None,
        }


@dataclass(frozen=True)
class Invoice:
    month: Month
    scope: Scope
    subject: str
    currency: str
    issuer: str
    lines: list[InvoiceLine]
    corrections: list[InvoiceLine] = field(default_factory=list)
    savings: dict[str, Any] | None = None
    closed: bool = False
    requests: int = 0  # distinct requests of the month (corrections excluded)

    @property
    def all_lines(self) -> list[InvoiceLine]:
        return [*self.lines, *self.corrections]

    @property
    def total_nano_usd(self) -> int:
        return sum(line.nano_usd for line in self.all_lines)

    @property
    def total_usd(self) -> Decimal:
        return sum((line.usd for line in self.all_lines), Decimal(0))

    @property
    def total_amount(self) -> Decimal:
        return sum((line.amount for line in self.all_lines), Decimal(0))

    @property
    def number(self) -> str:
        return f"LG-{self.month}-{self.scope[:4].upper()}-{self.subject}"

    def as_dict(self) -> dict[str, Any]:
        c = self.currency
        return {
            "invoice": self.number,
            "month": str(self.month),
            "period_start": self.month.start.isoformat(),
            "period_end": self.month.end.isoformat(),
            "scope": self.scope,
            "subject": self.subject,
            "issuer": self.issuer,
            "status": "closed" if self.closed else "open",
            "currency": c,
            "rounding": ROUNDING_RULE,
            "lines": [line.as_dict(c) for line in self.lines],
            "corrections": [line.as_dict(c) for line in self.corrections],
            "totals": {
                "requests": self.requests,
                "nano_usd": self.total_nano_usd,
                "usd": str(self.total_usd),
                "amount": str(self.total_amount),
                "currency": c,
                "display": format_money(self.total_amount, c),
                "display_usd": format_money(self.total_usd, "USD"),
            },
            "rates": sorted(
                {line.rate.label: line.rate.as_dict() for line in self.all_lines}.values(),
                key=lambda r: (r["currency"], r["effective_from"]),
            ),
            "savings": self.savings,
        }


def lines_of(
    cells: dict[CellKey, Cell],
    rates: RateBook,
    currency: str,
    *,
    correction_of: Month | None = None,
) -> list[InvoiceLine]:
    """Invoice lines from ledger cells: grouped by (tag, model, kind, rate in force)."""
    groups: dict[tuple[str, str, str, Rate], Cell] = {}
    for key, cell in cells.items():
        rate = rates.rate_on(currency, key.day)
        group = groups.setdefault((key.tag, key.model, key.kind, rate), Cell())
        group.tokens += cell.tokens
        group.nano_usd += cell.nano_usd
        group.requests |= cell.requests
    out = [
        InvoiceLine(
            tag=tag,
            model=model,
            kind=kind,
            rate=rate,
            requests=len(cell.requests),
            tokens=cell.tokens,
            nano_usd=cell.nano_usd,
            usd=convert(cell.nano_usd, Decimal(1), "USD"),
            amount=convert(cell.nano_usd, rate.per_usd, currency),
            correction_of=str(correction_of) if correction_of else "",
        )
        for (tag, model, kind, rate), cell in groups.items()
    ]
    return sorted(out, key=_order)


def _order(line: InvoiceLine) -> tuple[str, str, str, int, str]:
    kinds = list(KIND_LABELS)
    rank = kinds.index(line.kind) if line.kind in kinds else len(kinds)
    return (line.tag, line.model, line.rate.effective_from.isoformat(), rank, line.correction_of)


def subject_of(key: CellKey, scope: Scope) -> str:
    return key.department if scope == "department" else key.project


def split_by_subject(cells: dict[CellKey, Cell], scope: Scope) -> dict[str, dict[CellKey, Cell]]:
    out: dict[str, dict[CellKey, Cell]] = {}
    for key, cell in cells.items():
        out.setdefault(subject_of(key, scope), {})[key] = cell
    return out


def company_total(invoices: Iterable[Invoice]) -> tuple[int, Decimal, Decimal]:
    """(nano-USD, USD, company currency) summed over invoices (each a sum of rounded lines)."""
    nano, usd, amount = 0, Decimal(0), Decimal(0)
    for inv in invoices:
        nano += inv.total_nano_usd
        usd += inv.total_usd
        amount += inv.total_amount
    return nano, usd, amount
