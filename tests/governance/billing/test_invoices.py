"""Invoices in the company currency: totals trace to the ledger's nano-USD to the fen, a rate
change applies from its date only, a closed month is frozen (same bytes, same hash, hash in
the audit chain) and a late row is a correction of the next month."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from gateway.ledger.rows import LedgerRow
from gateway.ledger.tables import ledger
from governance.audit import AuditLog
from governance.audit_verify import verify
from governance.billing.focus_check import problems
from governance.billing.periods import Month
from governance.billing.rates import RateBook
from governance.billing.render import render
from governance.billing.service import Billing
from governance.billing.usage import prices_from
from kernel.errors import InvalidRequest
from tests.governance.billing.traffic import CONFIG, DEPARTMENTS, month_of_traffic, write
from tests.governance.helpers import migrated_engine

JUNE = Month(2026, 6)
OLD, NEW = Decimal("7.1043"), Decimal("7.2911")
CHANGE = date(2026, 6, 16)


@pytest.fixture(scope="module")
def billed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Engine, list[LedgerRow]]:
    path: Path = tmp_path_factory.mktemp("billing") / "bill.db"
    engine = migrated_engine(f"sqlite:///{path}")
    rows = month_of_traffic(engine)
    rates = RateBook(engine, cache_ttl_s=0)
    rates.add("CNY", OLD, "2026-06-01", "PBOC central parity 2026-06-01")
    rates.add("CNY", NEW, CHANGE, "PBOC central parity 2026-06-16")
    return engine, rows


def billing(engine: Engine, now: datetime = datetime(2026, 7, 2, tzinfo=UTC)) -> Billing:
    return Billing(
        engine,
        RateBook(engine, cache_ttl_s=0),
        prices_from(CONFIG),
        currency="CNY",
        issuer="Example Co.",
        audit=AuditLog(engine),
        now=lambda: now,
    )


def ledger_nano(engine: Engine, lo: datetime, hi: datetime, **where: str) -> int:
    t = ledger
    stmt = select(func.coalesce(func.sum(t.c.cost_nano_usd), 0)).where(
        t.c.kind == "request", t.c.created_at >= lo, t.c.created_at < hi
    )
    for column, value in where.items():
        stmt = stmt.where(t.c[column] == value)
    with engine.connect() as conn:
        return int(conn.execute(stmt).scalar_one())


def test_department_totals_equal_the_ledger_times_the_pinned_rate_to_the_fen(
    billed: tuple[Engine, list[LedgerRow]],
) -> None:
    engine, rows = billed
    invoices = billing(engine).invoices(JUNE, "department")
    assert sorted(i.subject for i in invoices) == sorted(DEPARTMENTS)
    change = datetime(2026, 6, 16, tzinfo=UTC)
    company = Decimal(0)
    for inv in invoices:
        # every nano-USD of the department's ledger rows is on the invoice, per rate period
        before = ledger_nano(engine, JUNE.start, change, department=inv.subject)
        after = ledger_nano(engine, change, JUNE.end, department=inv.subject)
        assert inv.total_nano_usd == before + after > 0
        by_rate: dict[Decimal, int] = defaultdict(int)
        for line in inv.lines:
            by_rate[line.rate.per_usd] += line.nano_usd
            # each line: its nano-USD times its pinned rate, rounded once to the fen
            fen = (Decimal(line.nano_usd) * line.rate.per_usd / Decimal(10**9)).quantize(
                Decimal("0.01"), rounding=ROUND_HALF_EVEN
            )
            assert line.amount == fen
        assert by_rate == {OLD: before, NEW: after}  # the new rate from its date only
        assert inv.total_amount == sum((line.amount for line in inv.lines), Decimal(0))
        unrounded = (Decimal(before) * OLD + Decimal(after) * NEW) / Decimal(10**9)
        assert abs(inv.total_amount - unrounded) <= Decimal("0.005") * len(inv.lines)
        assert inv.requests > 0 and inv.savings is not None
        # the appendix pays the department's response-cache hits again at what each saved
        hits = [r for r in rows if r.kind == "cache_hit" and r.department == inv.subject]
        shown = inv.savings["without_response_cache"]
        assert shown["cache_hits"] == len(hits) > 0
        assert shown["saved_nano_usd"] == sum(h.saved_nano_usd or 0 for h in hits)
        company += inv.total_amount
    # the departments add up to the company total (the sum of rounded lines)
    everything = ledger_nano(engine, JUNE.start, JUNE.end)
    assert sum(i.total_nano_usd for i in invoices) == everything
    summary = billing(engine).company(JUNE)
    assert Decimal(summary["totals"]["amount"]) == company
    assert summary["totals"]["nano_usd"] == everything
    assert {d["subject"]: Decimal(d["amount"]) for d in summary["departments"]} == {
        i.subject: i.total_amount for i in invoices
    }
    projects = billing(engine).invoices(JUNE, "project")
    assert sum(p.total_nano_usd for p in projects) == everything
    kinds = {line.kind for inv in invoices for line in inv.lines}
    assert kinds == {"input", "output", "cache_write_5m", "cache_write_1h", "cache_read"}
    assert {line.tag for inv in invoices for line in inv.lines} == {"", "cc-100", "task-review"}


def test_documents_are_deterministic_in_every_format(
    billed: tuple[Engine, list[LedgerRow]],
) -> None:
    engine, _ = billed
    inv = billing(engine).invoice(JUNE, "department", "eng")
    for fmt in ("json", "csv", "html"):
        assert render(inv, fmt) == render(billing(engine).invoice(JUNE, "department", "eng"), fmt)
    csv_text = render(inv, "csv").decode()
    assert csv_text.splitlines()[-1].endswith(f"{inv.total_amount},CNY")
    html = render(inv, "html").decode()
    assert "¥" in html and "Appendix: savings" in html and "without prompt caching" in html


def test_closed_month_is_frozen_and_a_late_row_is_next_months_correction(engine: Engine) -> None:
    """On SQLite and PostgreSQL."""
    month_of_traffic(engine, per_day=3, seed=5)
    RateBook(engine).add("CNY", OLD, "2026-06-01", "PBOC")
    early = billing(engine, now=datetime(2026, 6, 20, tzinfo=UTC))
    with pytest.raises(InvalidRequest, match="not over"):
        early.close(JUNE)
    bill = billing(engine)
    draft = bill.document(JUNE, "department", "sales", "json")
    assert not draft.closed and b'"status": "open"' in draft.body
    closed = bill.close(JUNE, by="cfo")
    before = bill.document(JUNE, "department", "sales", "json")
    assert before.closed and closed["documents"]["department/sales.json"] == before.sha256
    assert before.body == draft.body.replace(b'"status": "open"', b'"status": "closed"')
    # the hash is in the audit chain
    entry = AuditLog(engine).get(closed["audit_seq"])
    assert entry.record["documents"]["department/sales.json"] == before.sha256
    assert verify(AuditLog(engine)).ok
    with pytest.raises(InvalidRequest, match="already closed"):
        bill.close(JUNE)
    # a rate that would re-price the closed month is refused; so is one before a later rate
    with pytest.raises(InvalidRequest, match="2026-06 is closed"):
        RateBook(engine).add("CNY", "7.5", "2026-06-20", "typo fix")
    RateBook(engine).add("CNY", NEW, "2026-07-10", "PBOC")
    with pytest.raises(InvalidRequest, match="change only forward"):
        RateBook(engine).add("CNY", "7.0", "2026-07-05", "late entry")

    # a row for June reaches the ledger after the close
    late = LedgerRow(
        kind="attempt",
        request_id="late-1",
        step=1,
        outcome="ok",
        created_at=datetime(2026, 6, 30, 23, 0, tzinfo=UTC),
        department="sales",
        model_alias="claude-haiku-4-5",
        tier=0,
        input_tokens=1_000_000,
        cost_nano_usd=1_000_000_000,
    )
    write(engine, [late])
    again = billing(engine).document(JUNE, "department", "sales", "json")
    assert (again.body, again.sha256, again.closed) == (before.body, before.sha256, True)
    rebuilt = render(billing(engine).invoice(JUNE, "department", "sales"), "json")
    assert rebuilt == before.body  # rows past the watermark never enter a closed month
    july = billing(engine, now=datetime(2026, 8, 1, tzinfo=UTC)).invoice(
        Month(2026, 7), "department", "sales"
    )
    (correction,) = july.corrections
    assert (correction.correction_of, correction.nano_usd, correction.amount) == (
        "2026-06",
        1_000_000_000,
        Decimal("7.10"),
    )
    assert july.total_nano_usd == 1_000_000_000 and july.lines == []
    # in July's FOCUS data too, as a correction of a June day
    focus = [json.loads(line) for line in bill.focus(Month(2026, 7), "jsonl").splitlines()]
    assert problems(focus) == []
    assert [(r["ChargeClass"], r["ChargePeriodStart"], r["BilledCost"]) for r in focus] == [
        ("Correction", "2026-06-30T00:00:00Z", "7.1043")
    ]
