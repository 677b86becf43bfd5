"""Budget counters in Redis rebuilt from the ledger when Redis lost them.

Redis keeps the budget counters in memory; a Redis restarted without persistence (or
flushed) comes back empty, and every budget would start again from $0 while the month's
spending is still in the ledger. So a marker key lives beside the counters: every
``every_s`` seconds each API process checks it; when it is gone, one process (a Redis lock)
sets every budget's ``spent`` in its current window to the sum of the ledger's request costs
for that budget's department, project or user, then sets the marker again. Open reservations
are not rebuilt (their requests settle what they really cost).

Between Redis coming back and the next check (``every_s``), counters start from zero; the
requests settled during the rebuild's few milliseconds may be counted once more or less.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy import Engine

from gateway.ledger.tables import ledger
from governance.budgets import Budget, BudgetBook

if TYPE_CHECKING:
    import redis

log = logging.getLogger("governance.budgets")

MARKER = "{lgb}:rebuilt"
LOCK = "{lgb}:rebuilding"
_TTL_S = {"day": 3 * 86400, "month": 40 * 86400}
_SUBJECT = {
    "department": ledger.c.department,
    "project": ledger.c.project,
    "user": ledger.c.user_id,
}


def window_bounds(budget: Budget, now: datetime) -> tuple[datetime, datetime]:
    """The UTC start and end of the budget's window that ``now`` falls in."""
    now = now.astimezone(UTC)
    if budget.period == "day":
        start = now.replace(hour=0, minute=0, second=0, microsecond=0)
        return start, start + timedelta(days=1)
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    if start.month == 12:
        return start, start.replace(year=start.year + 1, month=1)
    return start, start.replace(month=start.month + 1)


def ledger_spent(engine: Engine, budget: Budget, now: datetime) -> int:
    """What the ledger says the budget's subject spent in its current window (nano-USD)."""
    start, end = window_bounds(budget, now)
    q = sa.select(sa.func.coalesce(sa.func.sum(ledger.c.cost_nano_usd), 0)).where(
        ledger.c.kind == "request",
        _SUBJECT[budget.scope] == budget.name,
        ledger.c.created_at >= start,
        ledger.c.created_at < end,
    )
    with engine.connect() as conn:
        return int(conn.execute(q).scalar_one())


class RedisBudgetRebuild:
    def __init__(
        self,
        client: redis.Redis,
        book: BudgetBook,
        engine: Engine,
        *,
        prefix: str = "",
        every_s: float = 2.0,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.client = client
        self.book = book
        self.engine = engine
        self.prefix = prefix
        self.every_s = every_s
        self.now = now
        self.rebuilds = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def check(self) -> bool:
        """Rebuild if the marker is gone (and no other process is at it); True if it did."""
        if self.client.exists(self.prefix + MARKER):
            return False
        if not self.client.set(self.prefix + LOCK, "1", nx=True, ex=60):
            return False
        try:
            now = self.now()
            budgets = self.book.all()
            for budget in budgets:
                window = budget.window(now)
                key = f"{self.prefix}{{lgb}}:u:{budget.id}:{window}"
                spent = ledger_spent(self.engine, budget, now)
                self.client.hset(key, "spent", spent)
                self.client.expire(key, _TTL_S[budget.period])
            self.client.set(self.prefix + MARKER, now.isoformat())
            self.rebuilds += 1
            log.warning("budget counters rebuilt from the ledger: %d budgets", len(budgets))
            return True
        finally:
            self.client.delete(self.prefix + LOCK)

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._run, name="loregate-budget-rebuild", daemon=True
        )
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            try:
                self.check()
            except Exception:  # Redis or the database down: the next round tries again
                log.debug("budget rebuild check failed", exc_info=True)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
