"""Replaying the request journal of a process that died (``gateway.journal``), at start-up.

For every request in a dead process's segments, whatever its background writers had not
written yet is written now, once:

- **ledger rows**: inserted when the ledger has no row of that request id;
- **audit record**: when the audit log has none for that request id, a PII-free stub is
  appended to the chain, built from the request's ledger row (caller, route, models, tokens,
  cost, outcome) and marked ``recovered``: the redacted request and response text were only
  ever in the dead process's memory;
- **budget settlement**: settled when its reservation is still open (SQL: its row is still
  there; Redis: the settle script's own marker makes a second settlement a no-op). A
  reservation already released by the 15-minute sweep is not settled again.

Every step is idempotent: a replay interrupted half-way is run again at the next start.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from gateway.ledger.rows import row_from_json
from gateway.ledger.tables import ledger
from gateway.stored_ids import present
from governance.audit import AuditLog
from governance.budget_sql import SqlBudgetCounter
from governance.budgets import BudgetBook, BudgetCounter, Reservation
from governance.tables import audit_log, budget_reservations

log = logging.getLogger("governance.journal")

SETTLEMENT = "settlement"
LEDGER = "ledger"  # the kind gateway.ledger.journaled writes


def settlement_record(reservation: Reservation, actual_nano: int) -> dict[str, Any]:
    """What a settlement needs to be replayed: ids, windows and amounts (no content)."""
    return {
        "reservation": reservation.id,
        "amount": reservation.amount_nano,
        "budgets": [b.id for b in reservation.budgets],
        "windows": list(reservation.windows),
        "actual": actual_nano,
    }


@dataclass
class ReplayReport:
    requests: int = 0
    ledger_rows: int = 0
    audit_stubs: int = 0
    settlements: int = 0

    def __str__(self) -> str:
        return (
            f"{self.requests} requests: {self.ledger_rows} ledger rows, "
            f"{self.audit_stubs} audit stubs, {self.settlements} settlements replayed"
        )


def _row(data: dict[str, Any]) -> dict[str, Any]:
    return row_from_json(data).as_dict()


def _stub(rows: list[dict[str, Any]]) -> tuple[str, datetime, dict[str, Any]]:
    req = next(r for r in rows if r["kind"] == "request")
    attempts = [r for r in rows if r["kind"] == "attempt"]
    payload = {
        "recovered": True,  # from the journal of a process that died: no content was kept
        "request_id": req["request_id"],
        "caller": {
            "user": req["user_id"],
            "department": req["department"],
            "project": req["project"],
            "key_id": req["key_id"],
        },
        "source": req["source"],
        "route_requested": req["requested_route"],
        "route": req["route"],
        "prompt_version": req["prompt_version"],
        "routing_version": req["routing_version"],
        "attempts": [
            {
                "model": a["model_alias"],
                "outcome": a["outcome"],
                "cost_nano_usd": a["cost_nano_usd"],
            }
            for a in attempts
        ],
        "outcome": req["outcome"],
        "cost_nano_usd": req["cost_nano_usd"],
        "latency_ms": req["latency_ms"],
        "request": None,
        "response": None,
    }
    return req["request_id"], req["created_at"], payload


def replay(
    entries: Iterable[dict[str, Any]],
    *,
    engine: Engine,
    counter: BudgetCounter,
    budgets: BudgetBook,
    audit: AuditLog,
) -> ReplayReport:
    parts: dict[str, dict[str, Any]] = {}
    for entry in entries:
        parts.setdefault(entry["rid"], {})[entry["kind"]] = entry["data"]
    report = ReplayReport(requests=len(parts))
    if not parts:
        return report
    rids = list(parts)
    in_ledger = present(engine, ledger.c.request_id, rids)
    rows = [
        _row(r)
        for rid, p in parts.items()
        if rid not in in_ledger and LEDGER in p
        for r in p[LEDGER]["rows"]
    ]
    if rows:
        with engine.begin() as conn:
            conn.execute(ledger.insert(), rows)
    report.ledger_rows = len(rows)

    audited = present(engine, audit_log.c.request_id, rids)
    stubs = [
        _stub([_row(r) for r in p[LEDGER]["rows"]])
        for rid, p in parts.items()
        if rid not in audited and LEDGER in p
    ]
    audit.append(stubs)
    report.audit_stubs = len(stubs)

    report.settlements = _settle(parts, engine, counter, budgets)
    return report


def _settle(
    parts: dict[str, dict[str, Any]], engine: Engine, counter: BudgetCounter, book: BudgetBook
) -> int:
    settlements = [p[SETTLEMENT] for p in parts.values() if SETTLEMENT in p]
    if not settlements:
        return 0
    if isinstance(counter, SqlBudgetCounter):  # settle only what is still reserved
        still_open = present(
            engine, budget_reservations.c.id, [s["reservation"] for s in settlements]
        )
        settlements = [s for s in settlements if s["reservation"] in still_open]
    by_id = {b.id: b for b in book.all()}
    done = 0
    for s in settlements:
        pairs = [(by_id.get(b), w) for b, w in zip(s["budgets"], s["windows"], strict=True)]
        known = [(b, w) for b, w in pairs if b is not None]
        if not known:
            continue  # every budget it counted on was removed since
        reservation = Reservation(
            s["reservation"], s["amount"], tuple(b for b, _ in known), tuple(w for _, w in known)
        )
        counter.settle(reservation, s["actual"])
        done += 1
    return done
