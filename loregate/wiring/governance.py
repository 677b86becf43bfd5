"""Wiring of governance (gateway/governance): keys, hooks, prompts, redaction, metrics.

Other wiring modules call ``authenticator``, ``hooks``, ``prompts``, ``redactor`` and
``key_store``; each part is built once per container. Backends follow the settings alone:
budgets and rate limits count in Redis when ``LOREGATE_REDIS_URL`` is set (shared by every
replica), else in SQL and process memory; everything else lives in the SQL database.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from fastapi import APIRouter
from sqlalchemy import Engine

from gateway.hooks import GovernanceHooks
from governance.prompt_types import PromptSource, Redactor
from kernel.auth import Authenticate

if TYPE_CHECKING:
    from gateway.ledger.writer import LedgerSink
    from governance.estimate import RouteInfo
    from governance.keys import KeyStore
    from governance.parts import GovernanceParts
    from governance.redaction import PiiRedactor
    from loregate.container import Container


def prompt_dirs(container: Container) -> list[Path]:
    """Packaged templates first, then the operator's own (a later directory wins)."""
    packaged = Path(str(resources.files("retrieval") / "prompts"))
    return [packaged, container.settings.home / "prompts"]


def _route_info(container: Container) -> RouteInfo | None:
    from loregate.wiring import gateway as gateway_wiring

    return gateway_wiring.gateway(container)


class _LazyEngine:
    """An engine reached on first use: the app starts (and ``/readyz`` reports) while the
    database is down; the first query after it is back migrates and connects."""

    def __init__(self, build: Callable[[], Engine]) -> None:
        self._build = build
        self._engine: Engine | None = None

    def __getattr__(self, name: str) -> Any:
        if self._engine is None:
            self._engine = self._build()
        return getattr(self._engine, name)


def _writer_engine(container: Container) -> Engine:
    """On SQLite, governance's frequent writers (budget counters, audit appends) get their own
    connections with ``synchronous=NORMAL``: in WAL mode a commit then needs no fsync (~0.5 ms
    instead of ~4 ms here) and holds the write lock that much shorter. A power cut may lose the
    last commits, never corrupt the file; records still queued in memory are lost by a crash
    anyway, and the ledger keeps the truth of spending."""
    built: Engine = container.part("governance.writer_engine", _build_writer_engine)
    return built


def _build_writer_engine(container: Container) -> Engine:
    main = container.engine  # migrated first
    if main.dialect.name != "sqlite":
        return main
    from sqlalchemy import event

    from loregate.database import make_engine

    engine = make_engine(container.settings.resolved_database_url)

    @event.listens_for(engine, "connect")
    def _fast_commits(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    container.on_close(engine.dispose)
    return engine


def _build_parts(container: Container) -> GovernanceParts:
    from governance.audit import AuditLog
    from governance.budget_redis import RedisBudgetCounter
    from governance.budget_sql import SqlBudgetCounter
    from governance.budgets import BudgetBook, BudgetCounter
    from governance.keys import KeyStore
    from governance.metrics import GovernanceMetrics
    from governance.parts import GovernanceParts
    from governance.prompts import PromptRegistry
    from governance.ratelimit import RateRules

    engine = cast(Engine, _LazyEngine(lambda: container.engine))
    redis_client = container.redis
    counter: BudgetCounter = (
        RedisBudgetCounter(redis_client)
        if redis_client is not None
        else SqlBudgetCounter(cast(Engine, _LazyEngine(lambda: _writer_engine(container))))
    )
    return GovernanceParts(
        engine=engine,
        keys=KeyStore(engine),
        budgets=BudgetBook(engine),
        counter=counter,
        rules=RateRules(engine),
        prompts=PromptRegistry(engine, prompt_dirs(container)),
        audit=AuditLog(engine),
        metrics=GovernanceMetrics(),
        route_info=lambda: _route_info(container),
    )


def parts(container: Container) -> GovernanceParts:
    built: GovernanceParts = container.part("governance.parts", _build_parts)
    return built


def key_store(container: Container) -> KeyStore:
    return parts(container).keys


def authenticator(container: Container) -> Authenticate:
    """Turns a request's API key (``x-api-key`` or ``Authorization: Bearer``) into a Principal."""

    def build(c: Container) -> Authenticate:
        from governance.authn import api_key_auth

        return api_key_auth(key_store(c))

    auth: Authenticate = container.part("governance.authenticator", build)
    return auth


def _build_redactor(container: Container) -> PiiRedactor:
    from governance.redaction import PiiRedactor

    return PiiRedactor()


def redactor(container: Container) -> Redactor:
    """PII redaction (presidio, offline); its engine loads on first use."""
    built: PiiRedactor = container.part("governance.redactor", _build_redactor)
    return built


def load_redactor(container: Container) -> None:
    """Load the redactor's engine now (seconds: presidio's import), not at its first use."""
    from governance.redaction import PiiRedactor

    red = redactor(container)
    if isinstance(red, PiiRedactor):
        _ = red.analyzer  # built once, under the redactor's lock (no thread needed here)


def prompts(container: Container) -> PromptSource:
    """The prompt registry: the active version of each prompt id."""
    return parts(container).prompts


def _build_hooks(container: Container) -> GovernanceHooks:
    from governance.audit import AuditLog
    from governance.audit_writer import AuditWriter
    from governance.budget_worker import BudgetWorker
    from governance.governor import Governance
    from governance.log_redaction import install_log_redaction
    from governance.ratelimit import RateLimiter, make_storage
    from governance.redaction import PiiRedactor

    p = parts(container)
    red = redactor(container)
    assert isinstance(red, PiiRedactor)
    red.warm_up()
    install_log_redaction(red)
    writer = AuditWriter(
        AuditLog(cast(Engine, _LazyEngine(lambda: _writer_engine(container)))), red
    )
    governance = Governance(
        budgets=p.budgets,
        counter=p.counter,
        metrics=p.metrics,
        limiter=RateLimiter(p.rules, make_storage(container.settings.redis_url)),
        audit=writer,
        worker=BudgetWorker(p.counter, on_states=p.metrics.record_budgets),
        redactor=red,
        redact_upstream=container.settings.redact_upstream,
        route_info=p.route_info,
    )
    container.on_close(governance.aclose)
    return governance


def hooks(container: Container) -> GovernanceHooks:
    """Budgets, rate limits, audit and metrics around each gateway call."""
    built: GovernanceHooks = container.part("governance.hooks", _build_hooks)
    return built


def ledger_sink(container: Container, inner: LedgerSink) -> LedgerSink:
    """Wrap the gateway's ledger writer so its free text (escalation and downgrade reasons)
    is redacted before it is written."""
    from governance.redaction import PiiRedactor, RedactingLedger

    red = redactor(container)
    assert isinstance(red, PiiRedactor)
    return RedactingLedger(inner, red)


def routers(container: Container) -> list[APIRouter]:
    from governance.admin_api import admin_router
    from governance.usage_api import usage_router

    p = parts(container)
    auth = authenticator(container)
    return [admin_router(p, auth), usage_router(p, auth)]
