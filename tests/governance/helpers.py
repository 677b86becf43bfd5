"""Shared by the governance tests."""

from __future__ import annotations

from sqlalchemy import Engine

from gateway.ledger import LedgerSink, MemoryLedger
from governance.redaction import NullRedactor, Redaction
from kernel.principal import Principal, Role
from loregate.database import make_engine, migrate
from testkit.clock import ManualClock
from testkit.scripted import ScriptedProvider
from tests.graphs import rig_graph, rig_settings

ALICE = Principal(
    user_id="alice", department="sales", project="crm", role=Role.EMPLOYEE, key_id="lg_0000a11c"
)


class GovRig:
    """A Gateway over a scripted provider with real governance hooks on ``engine``, built by
    the app's own builder: the engine, the provider, the clock, the ledger (a memory ledger
    unless given) and the redactor (none unless given) are overrides; the rest is as
    ``loregate serve`` builds it (``redis_url``: limits and budget counters in Redis)."""

    def __init__(
        self,
        engine: Engine,
        *,
        redactor: Redaction | None = None,
        redis_url: str | None = None,
        redact_upstream: bool = False,
        ledger: LedgerSink | None = None,
    ) -> None:
        self.engine = engine
        self.clock = ManualClock(follows_real_time=True)
        self.anthropic = ScriptedProvider("anthropic", sleep=self.clock.sleep)
        self.ledger = ledger or MemoryLedger()
        self.graph = rig_graph(
            {"anthropic": self.anthropic},
            settings=rig_settings(redis_url=redis_url, redact_upstream=redact_upstream),
            engine=engine,
            clock=self.clock,
            sleep=self.clock.sleep,
            ledger=self.ledger,
            redactor=redactor or NullRedactor(),
        )
        parts = self.graph.governance_parts
        self.metrics = parts.metrics
        self.budgets = parts.budgets
        self.rules = parts.rules
        self.audit_log = parts.audit
        self.catalogue = self.graph.catalogue
        self.governance = self.graph.governance
        self.writer = self.governance.audit
        self.gateway = self.graph.gateway

    def flush(self) -> None:
        """Wait until the budget worker has settled, and the audit writer written, every
        request so far (both work off the request's path, as in ``loregate serve``)."""
        for worker in (self.governance.worker, self.governance.audit):
            if worker is not None:
                assert worker.flush(timeout=60)

    def close(self) -> None:
        """Stop governance's writer threads once everything queued is written."""
        for worker in (self.governance.worker, self.governance.audit):
            if worker is not None:
                worker.close(timeout=60)

    async def aclose(self) -> None:
        await self.graph.aclose()


def migrated_engine(url: str) -> Engine:
    engine = make_engine(url)
    migrate(engine)
    return engine
