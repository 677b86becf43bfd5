"""Shared by the governance tests."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from gateway.config import load_config
from gateway.ledger import MemoryLedger
from gateway.route_catalogue import RouteCatalogue
from gateway.service import Gateway
from governance.audit import AuditLog
from governance.audit_writer import AuditWriter
from governance.budget_sql import SqlBudgetCounter
from governance.budgets import BudgetBook, BudgetCounter
from governance.governor import Estimator, Governance
from governance.metrics import GovernanceMetrics
from governance.ratelimit import RateLimiter, RateRules, make_storage
from governance.redaction import NullRedactor
from kernel.principal import Principal, Role
from loregate.database import make_engine, migrate
from testkit.clock import ManualClock
from testkit.scripted import ScriptedProvider

ALICE = Principal(
    user_id="alice", department="sales", project="crm", role=Role.EMPLOYEE, key_id="lg_0000a11c"
)


class GovRig:
    """A Gateway over scripted providers with real governance hooks on ``engine``."""

    def __init__(
        self,
        engine: Engine,
        *,
        redactor: Any = None,
        counter: BudgetCounter | None = None,
        redis_url: str | None = None,
        estimator: Estimator | None = None,
        redact_upstream: bool = False,
        audit: bool = True,
        ledger: Any = None,
    ) -> None:
        self.engine = engine
        self.clock = ManualClock(follows_real_time=True)
        self.anthropic = ScriptedProvider("anthropic", sleep=self.clock.sleep)
        self.metrics = GovernanceMetrics()
        self.budgets = BudgetBook(engine, cache_ttl_s=0)
        self.rules = RateRules(engine, cache_ttl_s=0)
        self.audit_log = AuditLog(engine)
        self.writer = (
            AuditWriter(self.audit_log, redactor or NullRedactor(), max_delay_s=0.01)
            if audit
            else None
        )
        self.ledger = ledger or MemoryLedger()
        self.catalogue = RouteCatalogue(
            load_config(), {"anthropic": self.anthropic, "openai": None, "local": None}
        )
        self.governance = Governance(
            budgets=self.budgets,
            counter=counter or SqlBudgetCounter(engine),
            metrics=self.metrics,
            limiter=RateLimiter(self.rules, make_storage(redis_url)),
            audit=self.writer,
            redactor=redactor,
            redact_upstream=redact_upstream,
            catalogue=self.catalogue,
            estimator=estimator,
            now=self.clock.now,
        )
        self.gateway = Gateway(
            self.catalogue,
            hooks=self.governance,
            ledger=self.ledger,
            clock=self.clock,
            sleep=self.clock.sleep,
        )

    def flush(self) -> None:
        if self.writer is not None:
            assert self.writer.flush(timeout=60)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close(timeout=60)

    async def aclose(self) -> None:
        await self.governance.aclose()


def migrated_engine(url: str) -> Engine:
    engine = make_engine(url)
    migrate(engine)
    return engine
