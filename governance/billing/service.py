"""``Billing``: invoices, closing a month, company totals and savings, over the ledger.

An open month is computed from the ledger each time. Closing a month (``close``) renders every
department's and project's invoice in every format, stores the bytes and their sha256, records
the ledger's highest row id (the watermark) and appends the hashes to the audit chain; from
then on ``document`` serves the stored bytes, and a rebuild reads only rows up to the
watermark, so it gives the same bytes. Months close in order. Rows that reach the ledger later
for a closed month are billed as corrections in the month after the last closed one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import chain
from typing import Any

from sqlalchemy import Engine, func, insert, select

from gateway.ledger.tables import ledger
from governance.audit import AuditLog
from governance.billing.cache_hits import CacheHit, cache_hits
from governance.billing.focus import focus_rows
from governance.billing.focus import to_csv as focus_csv
from governance.billing.focus import to_jsonl as focus_jsonl
from governance.billing.invoices import (
    SCOPES,
    Invoice,
    Scope,
    company_total,
    lines_of,
    split_by_subject,
)
from governance.billing.money import check_currency, format_money
from governance.billing.periods import Month
from governance.billing.rates import RateBook
from governance.billing.render import FORMATS, render, sha256
from governance.billing.savings import REFERENCE_MODEL, Savings, savings
from governance.billing.tables import billing_closes, billing_documents
from governance.billing.usage import AttemptRow, CellKey, Prices, attempt_rows, cells
from kernel.errors import InvalidRequest


@dataclass(frozen=True)
class Close:
    month: Month
    closed_at: datetime
    closed_by: str
    watermark: int
    currency: str


@dataclass(frozen=True)
class Document:
    body: bytes
    sha256: str
    closed: bool


def check_scope(scope: str) -> Scope:
    if scope not in SCOPES:
        raise InvalidRequest(f"unknown invoice scope {scope!r} (one of: {', '.join(SCOPES)})")
    return scope  # type: ignore[return-value]


class Billing:
    def __init__(
        self,
        engine: Engine,
        rates: RateBook,
        prices: Prices,
        *,
        currency: str = "USD",
        issuer: str = "loregate",
        audit: AuditLog | None = None,
        reference_model: str = REFERENCE_MODEL,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.engine = engine
        self.rates = rates
        self.prices = prices
        self.currency = check_currency(currency)
        self.issuer = issuer
        self.audit = audit
        self.reference_model = reference_model
        self.now = now

    # Closed months ----------------------------------------------------------------------------
    def closes(self) -> dict[Month, Close]:
        t = billing_closes
        with self.engine.connect() as conn:
            rows = conn.execute(select(t).order_by(t.c.month)).all()
        return {
            Month.parse(r.month): Close(
                Month.parse(r.month), r.closed_at, r.closed_by, int(r.ledger_watermark), r.currency
            )
            for r in rows
        }

    # Invoices ---------------------------------------------------------------------------------
    def _rows(
        self,
        month: Month,
        close: Close | None,
        scope: Scope = "department",
        subject: str | None = None,
    ) -> list[AttemptRow]:
        upto = close.watermark if close else None
        dept = subject if scope == "department" else None
        proj = subject if scope == "project" else None
        return list(
            attempt_rows(
                self.engine, month.start, month.end, up_to_id=upto, department=dept, project=proj
            )
        )

    def _hits(
        self,
        month: Month,
        close: Close | None,
        scope: Scope = "department",
        subject: str | None = None,
    ) -> list[CacheHit]:
        return cache_hits(
            self.engine,
            month.start,
            month.end,
            up_to_id=close.watermark if close else None,
            department=subject if scope == "department" else None,
            project=subject if scope == "project" else None,
        )

    def _late_rows(self, month: Month, closes: dict[Month, Close]) -> list[AttemptRow]:
        """Rows of closed months that reached the ledger after their month closed."""
        before = closes.get(month.previous())
        if before is None:
            return []
        mine = closes.get(month)
        return list(
            attempt_rows(
                self.engine,
                datetime(1970, 1, 1, tzinfo=UTC),
                month.start,
                after_id=before.watermark,
                up_to_id=mine.watermark if mine else None,
            )
        )

    def invoices(self, month: Month, scope: str) -> list[Invoice]:
        """Every subject's invoice of ``month`` (subjects with rows or corrections)."""
        return self._build(month, check_scope(scope), None, self.closes())

    def invoice(self, month: Month, scope: str, subject: str) -> Invoice:
        return self._build(month, check_scope(scope), subject, self.closes())[0]

    def _build(
        self, month: Month, scope: Scope, subject: str | None, closes: dict[Month, Close]
    ) -> list[Invoice]:
        close = closes.get(month)
        currency = close.currency if close else self.currency
        rows = self._rows(month, close, scope, subject)
        hits = self._hits(month, close, scope, subject)
        late = [
            r
            for r in self._late_rows(month, closes)
            if subject is None or _subject(r, scope) == subject
        ]
        by_subject = split_by_subject(cells(iter(rows), self.prices), scope)
        late_cells: dict[Month, dict[str, dict[CellKey, Any]]] = {}
        for m in sorted({Month.of(r.created_at) for r in late}):
            of_month = [r for r in late if Month.of(r.created_at) == m]
            late_cells[m] = split_by_subject(cells(iter(of_month), self.prices), scope)
        subjects = set(by_subject) | {s for per in late_cells.values() for s in per}
        if subject is not None:
            subjects = {subject}
        out = []
        for name in sorted(subjects):
            mine = [r for r in rows if _subject(r, scope) == name]
            corrections = [
                line
                for m, per in late_cells.items()
                for line in lines_of(per.get(name, {}), self.rates, currency, correction_of=m)
            ]
            out.append(
                Invoice(
                    month=month,
                    scope=scope,
                    subject=name,
                    currency=currency,
                    issuer=self.issuer,
                    lines=lines_of(by_subject.get(name, {}), self.rates, currency),
                    corrections=corrections,
                    savings=self.savings_of(
                        mine, [h for h in hits if _subject(h, scope) == name]
                    ).as_dict(),
                    closed=close is not None,
                    requests=len({r.request_id for r in mine}),
                )
            )
        return out

    def company(self, month: Month) -> dict[str, Any]:
        """Every department's totals and the company's: the sum of the departments' lines."""
        invoices = self.invoices(month, "department")
        nano, usd, amount = company_total(invoices)
        currency = invoices[0].currency if invoices else self.currency
        return {
            "month": str(month),
            "currency": currency,
            "closed": month in self.closes(),
            "departments": [
                {
                    "subject": i.subject,
                    "requests": i.requests,
                    "nano_usd": i.total_nano_usd,
                    "usd": str(i.total_usd),
                    "amount": str(i.total_amount),
                    "display": format_money(i.total_amount, currency),
                }
                for i in invoices
            ],
            "totals": {
                "nano_usd": nano,
                "usd": str(usd),
                "amount": str(amount),
                "display": format_money(amount, currency),
            },
        }

    def savings_of(self, rows: list[AttemptRow], hits: list[CacheHit] | None = None) -> Savings:
        return savings(rows, self.prices, self.reference_model, hits or ())

    def savings(self, month: Month, scope: str = "department") -> dict[str, Any]:
        """Per subject and for the whole company: what the month's requests would have cost."""
        sc = check_scope(scope)
        close = self.closes().get(month)
        rows = self._rows(month, close)
        hits = self._hits(month, close)
        subjects = sorted({_subject(r, sc) for r in rows} | {_subject(h, sc) for h in hits})
        return {
            "month": str(month),
            "scope": sc,
            "company": self.savings_of(rows, hits).as_dict(),
            "subjects": {
                s: self.savings_of(
                    [r for r in rows if _subject(r, sc) == s],
                    [h for h in hits if _subject(h, sc) == s],
                ).as_dict()
                for s in subjects
            },
        }

    def document(self, month: Month, scope: str, subject: str, fmt: str) -> Document:
        """The invoice's bytes: stored ones for a closed month, else rendered now."""
        if fmt not in FORMATS:
            raise InvalidRequest(f"unknown invoice format {fmt!r} (one of: {', '.join(FORMATS)})")
        t = billing_documents
        with self.engine.connect() as conn:
            row = conn.execute(
                select(t.c.body, t.c.sha256).where(
                    t.c.month == str(month),
                    t.c.scope == check_scope(scope),
                    t.c.subject == subject,
                    t.c.fmt == fmt,
                )
            ).first()
        if row is not None:
            return Document(bytes(row.body), row.sha256, True)
        invoice = self.invoice(month, scope, subject)
        body = render(invoice, fmt)
        return Document(body, sha256(body), invoice.closed)

    def focus(self, month: Month, fmt: str = "csv") -> bytes:
        """The month's ledger as a FOCUS 1.2 dataset (``csv`` or ``jsonl``)."""
        if fmt not in ("csv", "jsonl"):
            raise InvalidRequest(f"unknown FOCUS format {fmt!r} (one of: csv, jsonl)")
        closes = self.closes()
        close = closes.get(month)
        rows = self._rows(month, close)
        late = self._late_rows(month, closes)
        providers = {r.model: (r.provider, r.model_id) for r in [*rows, *late]}
        common: dict[str, Any] = {
            "currency": close.currency if close else self.currency,
            "issuer": self.issuer,
            "providers": providers,
        }
        dataset = chain(
            focus_rows(cells(iter(rows), self.prices), self.rates, month, **common),
            focus_rows(
                cells(iter(late), self.prices), self.rates, month, correction=True, **common
            ),
        )
        return focus_csv(dataset) if fmt == "csv" else focus_jsonl(dataset)

    # Closing ----------------------------------------------------------------------------------
    def close(self, month: Month, by: str = "") -> dict[str, Any]:
        """Freeze ``month``: store every invoice's bytes and hashes; audit the hashes."""
        now = self.now()
        if month >= Month.of(now):
            raise InvalidRequest(f"{month} is not over yet: a month closes after its last day")
        closes = self.closes()
        if month in closes:
            raise InvalidRequest(f"{month} is already closed", details={"month": str(month)})
        later = [str(m) for m in closes if m > month]
        if later:
            raise InvalidRequest(f"{month} cannot close after a later month ({later[-1]}) closed")
        last = max(closes) if closes else None
        if self._has_rows(last.end if last else None, month.start):
            raise InvalidRequest(
                f"an earlier month with ledger rows is still open: close months in order "
                f"(after {last or 'the first month'}) before {month}"
            )
        with self.engine.connect() as conn:
            watermark = int(
                conn.execute(select(func.coalesce(func.max(ledger.c.id), 0))).scalar_one()
            )
        close = Close(month, now, by, watermark, self.currency)
        documents: dict[str, str] = {}
        stored: list[dict[str, Any]] = []
        for scope in SCOPES:
            for invoice in self._build(month, scope, None, {**closes, month: close}):
                for fmt in FORMATS:
                    body = render(invoice, fmt)
                    digest = sha256(body)
                    documents[f"{scope}/{invoice.subject}.{fmt}"] = digest
                    stored.append(
                        {
                            "month": str(month),
                            "scope": scope,
                            "subject": invoice.subject,
                            "fmt": fmt,
                            "body": body,
                            "sha256": digest,
                        }
                    )
        with self.engine.begin() as conn:
            conn.execute(
                insert(billing_closes).values(
                    month=str(month),
                    closed_at=now,
                    closed_by=by,
                    ledger_watermark=watermark,
                    currency=self.currency,
                )
            )
            if stored:
                conn.execute(insert(billing_documents), stored)
        record = {
            "event": "billing.month_closed",
            "month": str(month),
            "closed_by": by,
            "currency": self.currency,
            "ledger_watermark": watermark,
            "documents": documents,
        }
        seq = None
        if self.audit is not None:
            seq = self.audit.append([(f"billing-close-{month}", now, record)])[0]
        return {**record, "audit_seq": seq}

    def _has_rows(self, start: datetime | None, end: datetime) -> bool:
        t = ledger
        stmt = select(t.c.id).where(t.c.kind == "attempt", t.c.created_at < end).limit(1)
        if start is not None:
            stmt = stmt.where(t.c.created_at >= start)
        with self.engine.connect() as conn:
            return conn.execute(stmt).first() is not None


def _subject(row: AttemptRow | CacheHit, scope: Scope) -> str:
    return row.department if scope == "department" else row.project
