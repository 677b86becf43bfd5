"""Budget counters in SQL: one transaction per reservation or settlement.

The reservation is a conditional ``UPDATE ... SET reserved = reserved + :amount WHERE spent +
reserved + :amount <= hard``: on PostgreSQL the row lock makes a concurrent update wait and
re-check the condition; on SQLite the first write of the transaction takes the database's write
lock (with a busy timeout). Budgets are locked in id order, so two requests never deadlock.

A reservation whose request never settled (a crashed process) is released by a sweep once it
is older than ``stale_after_s``.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, and_, delete, insert, select, update

from governance.budgets import Budget, BudgetState, Reservation, exceeded
from governance.tables import budget_reservations as rsv
from governance.tables import budget_usage as usage


def new_reservation_id() -> str:
    return "rsv_" + uuid.uuid4().hex


class SqlBudgetCounter:
    def __init__(
        self, engine: Engine, *, stale_after_s: float = 900.0, sweep_every_s: float = 60.0
    ) -> None:
        self.engine = engine
        self.stale_after_s = stale_after_s
        self.sweep_every_s = sweep_every_s
        self._next_sweep = 0.0
        self._sweep_lock = threading.Lock()

    # Reserve ----------------------------------------------------------------------------------
    def reserve(self, budgets: Sequence[Budget], amount_nano: int, now: datetime) -> Reservation:
        self._maybe_sweep(now)
        ordered = tuple(sorted(budgets, key=lambda b: b.id))
        windows = tuple(b.window(now) for b in ordered)
        reservation = Reservation(new_reservation_id(), amount_nano, ordered, windows)
        if not ordered:
            return reservation
        with self.engine.begin() as conn:
            for budget, window in zip(ordered, windows, strict=True):
                reservation.states.append(self._reserve_one(conn, budget, window, amount_nano))
            conn.execute(
                insert(rsv),
                [
                    {
                        "id": reservation.id,
                        "budget_id": b.id,
                        "window": w,
                        "amount_nano": amount_nano,
                        "created_at": now,
                        "rate": b.rate,
                    }
                    for b, w in zip(ordered, windows, strict=True)
                ],
            )
        return reservation

    def _reserve_one(
        self, conn: Connection, budget: Budget, window: str, amount: int
    ) -> BudgetState:
        hard = budget.hard_limit_nano
        key = and_(usage.c.budget_id == budget.id, usage.c.window == window)
        held = usage.c.spent_nano + usage.c.reserved_nano
        stmt = (
            update(usage)
            .where(key, held + amount <= hard, held < hard)
            .values(reserved_nano=usage.c.reserved_nano + amount)
            .returning(usage.c.spent_nano, usage.c.reserved_nano)
        )
        row = conn.execute(stmt).first()
        if row is None:
            current = conn.execute(
                select(usage.c.spent_nano, usage.c.reserved_nano).where(key)
            ).first()
            if current is None:  # first spending of this window: create its row, try again
                self._create_row(conn, budget.id, window)
                row = conn.execute(stmt).first()
            if row is None:
                spent, reserved = current if current is not None else (0, 0)
                raise exceeded(BudgetState(budget, window, spent, reserved), amount)
        return BudgetState(budget, window, int(row[0]), int(row[1]))

    @staticmethod
    def _create_row(conn: Connection, budget_id: int, window: str) -> None:
        values = {"budget_id": budget_id, "window": window, "spent_nano": 0, "reserved_nano": 0}
        stmt: Any
        if conn.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            stmt = pg_insert(usage).values(**values).on_conflict_do_nothing()
        elif conn.dialect.name == "sqlite":
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            stmt = sqlite_insert(usage).values(**values).on_conflict_do_nothing()
        else:  # pragma: no cover - only SQLite and PostgreSQL are supported
            stmt = insert(usage).values(**values)
        conn.execute(stmt)

    # Settle -----------------------------------------------------------------------------------
    def settle(self, reservation: Reservation, actual_nano: int) -> list[BudgetState]:
        return self.settle_many([(reservation, actual_nano)])[0]

    def settle_many(self, items: Sequence[tuple[Reservation, int]]) -> list[list[BudgetState]]:
        """Settle several reservations in one transaction (the budget worker's batches)."""
        if not any(r.budgets for r, _ in items):
            return [[] for _ in items]
        with self.engine.begin() as conn:
            return [self._settle_one(conn, r, actual) for r, actual in items]

    def _settle_one(
        self, conn: Connection, reservation: Reservation, actual_nano: int
    ) -> list[BudgetState]:
        if not reservation.budgets:
            return []
        released = {
            int(r.budget_id): int(r.amount_nano)
            for r in conn.execute(
                delete(rsv)
                .where(rsv.c.id == reservation.id)
                .returning(rsv.c.budget_id, rsv.c.amount_nano)
            )
        }
        states: list[BudgetState] = []
        for budget, window in zip(reservation.budgets, reservation.windows, strict=True):
            key = and_(usage.c.budget_id == budget.id, usage.c.window == window)
            row = conn.execute(
                update(usage)
                .where(key)
                .values(
                    reserved_nano=usage.c.reserved_nano - released.get(budget.id, 0),
                    spent_nano=usage.c.spent_nano + actual_nano,
                )
                .returning(usage.c.spent_nano, usage.c.reserved_nano)
            ).first()
            if row is None:  # the budget was re-created meanwhile: count on a fresh row
                self._create_row(conn, budget.id, window)
                conn.execute(update(usage).where(key).values(spent_nano=actual_nano))
                spent, reserved = actual_nano, 0
            else:
                spent, reserved = int(row[0]), int(row[1])
            states.append(BudgetState(budget, window, spent, reserved))
        return states

    # Read -------------------------------------------------------------------------------------
    def usage(self, budgets: Sequence[Budget], now: datetime) -> list[BudgetState]:
        if not budgets:
            return []
        wanted = {(b.id, b.window(now)): b for b in budgets}
        found: dict[tuple[int, str], tuple[int, int]] = {}
        with self.engine.connect() as conn:
            rows = conn.execute(select(usage).where(usage.c.budget_id.in_([b.id for b in budgets])))
            for r in rows:
                found[(r.budget_id, r.window)] = (int(r.spent_nano), int(r.reserved_nano))
        return [BudgetState(b, key[1], *found.get(key, (0, 0))) for key, b in wanted.items()]

    # Stale reservations -----------------------------------------------------------------------
    def _maybe_sweep(self, now: datetime) -> None:
        tick = time.monotonic()
        with self._sweep_lock:
            if tick < self._next_sweep:
                return
            self._next_sweep = tick + self.sweep_every_s
        self.sweep(now)

    def sweep(self, now: datetime | None = None) -> int:
        """Release reservations older than ``stale_after_s``; returns how many were released."""
        cutoff = (now or datetime.now(UTC)) - timedelta(seconds=self.stale_after_s)
        with self.engine.begin() as conn:
            stale = conn.execute(
                delete(rsv)
                .where(rsv.c.created_at < cutoff)
                .returning(rsv.c.budget_id, rsv.c.window, rsv.c.amount_nano)
            ).all()
            totals: dict[tuple[int, str], int] = {}
            for r in stale:
                key = (int(r.budget_id), str(r.window))
                totals[key] = totals.get(key, 0) + int(r.amount_nano)
            for (budget_id, window), amount in sorted(totals.items()):
                conn.execute(
                    update(usage)
                    .where(usage.c.budget_id == budget_id, usage.c.window == window)
                    .values(reserved_nano=usage.c.reserved_nano - amount)
                )
        return len(stale)
