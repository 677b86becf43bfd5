"""The object graph: every long-lived part of loregate, built from ``Settings`` and
``Overrides`` by one typed builder.

Each part is a typed attribute built on first use and kept (``functools.cached_property``);
the app factory builds the parts its routers need when it starts, so requests receive concrete
services and never reach back into this class. ``aclose`` closes what was built, last built
first (so the ledger and audit writers flush before the engines they write to are disposed).

Backends follow the settings alone: SQLite in ``LOREGATE_HOME`` or PostgreSQL by URL; budgets,
rate limits and the response cache in Redis by URL, else in SQL and process memory; the embedded
Qdrant engine, or a Qdrant server by URL. Engines connect lazily, so the graph builds (and
``/readyz`` reports) while a database is down; ``migrate`` brings the schema up to date.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from gateway.config import load_config
from gateway.hooks import GovernanceHooks
from gateway.journal import NullJournal, RequestJournal
from gateway.ledger.insert_process import InsertProcess
from gateway.ledger.journaled import JournaledLedger
from gateway.ledger.writer import LedgerSink, LedgerWriter
from gateway.route_catalogue import RouteCatalogue
from gateway.service import Gateway
from governance.audit import AuditLog
from governance.billing.rates import RateBook
from governance.billing.service import Billing
from governance.billing.usage import prices_from
from governance.budget_redis import RedisBudgetCounter
from governance.budget_sql import SqlBudgetCounter
from governance.budgets import BudgetBook, BudgetCounter
from governance.keys import KeyStore
from governance.metrics import GovernanceMetrics
from governance.parts import GovernanceParts
from governance.prompts import PromptRegistry
from governance.ratelimit import RateRules
from governance.redaction import PiiRedactor, Redaction
from governance.tool_grants import ToolGrants
from kernel.auth import Authenticate
from kernel.clock import SYSTEM_CLOCK
from kernel.errors import AllProvidersFailed
from loregate.async_bridge import AsyncBridge
from loregate.database import make_engine, writer_engine
from loregate.embedding_wiring import build_embedder
from loregate.graph_base import GraphBase
from loregate.overrides import Overrides
from loregate.providers import provider_registry
from loregate.settings import Settings
from retrieval import index_version

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from evals.run_store import RunStore
    from governance.governor import Governance
    from ingest.jobs import JobStore
    from ingest.pipeline import Ingestor
    from ingest.task_queue import IngestQueue
    from retrieval.answer import AnswerService
    from retrieval.embedder import TextEmbedder
    from retrieval.response_cache import ResponseCache
    from retrieval.review import ReviewQueue
    from retrieval.sparse import SparseEncoder
    from retrieval.store.base import IndexStore


class Loregate(GraphBase):
    def __init__(self, settings: Settings, overrides: Overrides | None = None) -> None:
        super().__init__(settings, overrides)
        self._stores: dict[str, IndexStore] = {}
        self._ingestors: dict[str, Ingestor] = {}
        self._answer_services: dict[str, AnswerService] = {}

    def plan_routes(self) -> None:
        """Build every available provider and plan every configured route now, so that no
        request builds a provider (or imports an SDK) on its path. A route with no provider
        available stays unplanned: a request on it gets the catalogue's error, as it would."""
        registry = self.catalogue.providers
        for name in registry.names():
            if registry.available(name):
                registry.get(name)
        for route in self.catalogue.config.routes:
            try:
                self.catalogue.plan(route)
            except AllProvidersFailed:
                continue

    # Gateway --------------------------------------------------------------------------------
    @cached_property
    def catalogue(self) -> RouteCatalogue:
        # The extractive answerer reads sentences with the embedder (its model loads on first use).
        providers = provider_registry(
            self.settings, self.overrides.providers, encoder=self.embedder
        )
        config = self.overrides.gateway_config or load_config(self.settings.config)
        return RouteCatalogue(config, providers, clock=self.overrides.clock)

    @cached_property
    def ledger_writer(self) -> LedgerWriter:
        """The batched writer of ledger rows (``flush`` waits for what was recorded); with
        ``LOREGATE_AUDIT_PROCESS`` on our own database, it inserts in a child process."""
        factory = self.process_engine(make_engine)
        return LedgerWriter(self.engine, inserts=InsertProcess(factory) if factory else None)

    @cached_property
    def ledger(self) -> LedgerSink:
        """The gateway's ledger: the writer (and the journal), its free text (escalation and
        downgrade reasons) redacted first."""
        if self.overrides.ledger is not None:
            return self.overrides.ledger
        from governance.redaction import RedactingLedger

        journal = self.journal
        if isinstance(journal, NullJournal):
            return RedactingLedger(self.ledger_writer, self.redactor)
        return RedactingLedger(JournaledLedger(self.ledger_writer, journal), self.redactor)

    @cached_property
    def journal(self) -> RequestJournal | NullJournal:
        """The request journal (``gateway.journal``, replayed by ``loregate.recovery``): on
        unless switched off or the ledger is the caller's (a test's has nothing to recover)."""
        if not self.settings.journal or self.overrides.ledger is not None:
            return NullJournal()
        journal = RequestJournal(
            self.settings.home / "journal",
            checkpoint=self._drain_writers,
            database=self.engine.url.render_as_string(hide_password=True),
            fsync=self.settings.journal_fsync,
        )
        self.on_close(journal.close)  # built before the writers: closed after they flushed
        return journal

    def process_engine(self, make: Callable[[str], Engine]) -> Callable[[], Engine] | None:
        """How a worker process (audit, ledger, rollup) makes its engine for our database URL;
        ``None`` without ``LOREGATE_AUDIT_PROCESS`` or for a test's engine: threads write."""
        if not self.settings.audit_process or self.overrides.engine is not None:
            return None
        return functools.partial(make, self.settings.resolved_database_url)

    def _drain_writers(self) -> bool:
        """Everything handed to the ledger, budget and audit writers so far is written."""
        ok = self.ledger_writer.flush(timeout=30)
        if "governance" in self.__dict__:
            ok = self.governance.flush_writers(timeout=30) and ok
        return ok

    @cached_property
    def hooks(self) -> GovernanceHooks:
        """What the gateway admits and settles each call with: governance."""
        return self.overrides.hooks or self.governance

    @cached_property
    def gateway(self) -> Gateway:
        gw = Gateway(
            self.catalogue,
            hooks=self.hooks,
            ledger=self.ledger,
            clock=self.overrides.clock,
            sleep=self.overrides.sleep,
            journal=self.journal,
        )
        self.on_close(gw.aclose)
        return gw

    # Governance -----------------------------------------------------------------------------
    @cached_property
    def redactor(self) -> Redaction:
        """PII redaction (presidio, offline); its engine loads on first use."""
        return self.overrides.redactor or PiiRedactor()

    @cached_property
    def governance_parts(self) -> GovernanceParts:
        engine = self.engine
        counter: BudgetCounter = (
            RedisBudgetCounter(self.redis)
            if self.redis is not None
            else SqlBudgetCounter(self.writer_engine)
        )
        return GovernanceParts(
            engine=engine,
            keys=KeyStore(engine),
            budgets=BudgetBook(engine),
            counter=counter,
            rules=RateRules(engine),
            prompts=PromptRegistry(engine, self.prompt_dirs),
            audit=AuditLog(engine),
            metrics=GovernanceMetrics(),
            catalogue=self.catalogue,
            rates=RateBook(engine),
            currency=self.settings.currency,
            grants=ToolGrants(engine),
        )

    @cached_property
    def billing(self) -> Billing:
        """Invoices, closed months, FOCUS exports and savings in the company currency."""
        p = self.governance_parts
        assert p.rates is not None
        return Billing(
            self.engine,
            p.rates,
            prices_from(self.catalogue.config),
            currency=self.settings.currency,
            issuer=self.settings.company_name,
            audit=p.audit,
        )

    @property
    def prompt_dirs(self) -> list[Path]:
        """Packaged templates first, then the operator's own (a later directory wins)."""
        packaged = Path(str(resources.files("retrieval") / "prompts"))
        return [packaged, self.settings.home / "prompts"]

    @cached_property
    def authenticate(self) -> Authenticate:
        """A request's API key (``x-api-key`` or ``Authorization: Bearer``) -> Principal."""
        if self.overrides.authenticate is not None:
            return self.overrides.authenticate
        from governance.authn import api_key_auth

        return api_key_auth(self.governance_parts.keys)

    @cached_property
    def governance(self) -> Governance:
        """Budgets, rate limits, audit and metrics around each gateway call."""
        from governance.audit_process import ProcessRedaction
        from governance.audit_writer import AuditWriter
        from governance.budget_worker import BudgetWorker
        from governance.governor import Governance
        from governance.log_redaction import install_log_redaction
        from governance.ratelimit import RateLimiter, make_storage

        p = self.governance_parts
        install_log_redaction(self.redactor)
        governance = Governance(
            budgets=p.budgets,
            counter=p.counter,
            metrics=p.metrics,
            limiter=RateLimiter(p.rules, make_storage(self.settings.redis_url)),
            audit=AuditWriter(
                AuditLog(self.writer_engine),
                self.redactor,
                redaction=ProcessRedaction(
                    phone_regions=self.redactor.phone_regions,
                    score_threshold=self.redactor.score_threshold,
                    engine_factory=self.process_engine(writer_engine),
                )
                if self.settings.audit_process and isinstance(self.redactor, PiiRedactor)
                else None,
            ),
            worker=BudgetWorker(p.counter, on_states=p.metrics.record_budgets),
            redactor=self.redactor,
            redact_upstream=self.settings.redact_upstream,
            catalogue=self.catalogue,
            now=(self.overrides.clock or SYSTEM_CLOCK).now,
            rates=p.rates,
            journal=self.journal if isinstance(self.journal, RequestJournal) else None,
        )
        self.on_close(governance.aclose)
        if self.redis is not None:  # counters lost with Redis come back from the ledger
            from governance.budget_rebuild import RedisBudgetRebuild

            rebuild = RedisBudgetRebuild(self.redis, p.budgets, self.engine)
            rebuild.start()
            self.on_close(rebuild.close)
        return governance

    # Retrieval and ingestion ----------------------------------------------------------------
    @cached_property
    def embedder(self) -> TextEmbedder:
        if self.overrides.embedder is not None:
            return self.overrides.embedder
        return build_embedder(self.settings, self.on_close)

    def index_name(self, collection: str | None = None) -> str:
        """The index of a collection under the configured embedder: the collection itself with
        the bundled model, ``<collection>--<model>-<hash>`` with another (``LOREGATE_EMBEDDING_
        MODEL``, ``LOREGATE_EMBEDDINGS_URL``). Vectors of two models never share an index: a
        changed model starts an index of its own, with its own registry and index version,
        and the old one stays whole (changing back needs no re-ingestion)."""
        name = collection or self.settings.collection
        s = self.settings
        if self.overrides.embedder is not None or not (s.embedding_model or s.embeddings_url):
            return name
        return index_version.index_for_model(name, self.embedder.config_id)

    @cached_property
    def sparse(self) -> SparseEncoder:
        from retrieval.sparse import SparseEncoder

        return SparseEncoder()

    def store(self, collection: str | None = None) -> IndexStore:
        """The store of a collection (the configured one by default; evals keep their
        corpora in their own)."""
        name = self.index_name(collection)
        found = self._stores.get(name)
        if found is None:
            given = (self.overrides.stores or {}).get(name)
            if given is not None:
                found = given
            else:
                from retrieval.store.factory import build_store

                s = self.settings
                found = build_store(
                    url=s.qdrant_url,
                    path=s.qdrant_path,
                    collection=name,
                    api_key=s.qdrant_api_key,
                    cluster=s.qdrant_cluster(),
                )
                self.on_close(found.close)
            self._stores[name] = found
        return found

    def ingestor(self, collection: str | None = None) -> Ingestor:
        name = self.index_name(collection)
        found = self._ingestors.get(name)
        if found is None:
            from ingest.pipeline import Ingestor
            from loregate.chunk_context_wiring import context_stage

            found = Ingestor(
                engine=self.engine,
                store=self.store(name),
                embedder=self.embedder,
                sparse=self.sparse,
                collection=name,
                max_file_bytes=self.settings.max_file_bytes,
                contexts=context_stage(self, name),
            )
            self._ingestors[name] = found
        return found

    @cached_property
    def async_bridge(self) -> AsyncBridge:
        """Runs gateway calls from ingestion's threads (``loregate.async_bridge``)."""
        return AsyncBridge()

    @cached_property
    def job_store(self) -> JobStore:
        from ingest.jobs import JobStore

        return JobStore(self.engine)

    @cached_property
    def ingest_queue(self) -> IngestQueue | None:
        """The ingestion task queue (``LOREGATE_INGEST_BROKER``), else ``None``: in process."""
        if not self.settings.ingest_broker:
            return None
        from ingest.task_queue import IngestQueue
        from ingest.tasks import TaskStore

        queue = IngestQueue(
            self.settings.ingest_broker,
            jobs=self.job_store,
            tasks=TaskStore(self.engine),
            ingestor_for=self.ingestor,
            queue=self.settings.ingest_queue_name,
        )
        self.on_close(queue.close)
        return queue

    @cached_property
    def review_queue(self) -> ReviewQueue:
        from retrieval.review import ReviewQueue

        return ReviewQueue(self.engine, self.redactor)

    @cached_property
    def response_cache(self) -> ResponseCache:
        from retrieval.response_cache import MemoryBackend, RedisBackend, ResponseCache

        client = self.redis
        return ResponseCache(RedisBackend(client) if client is not None else MemoryBackend())

    def answer_service(self, collection: str | None = None) -> AnswerService:
        """The answer service over a collection (what the API, the CLI and the evals call)."""
        name = collection or self.settings.collection
        found = self._answer_services.get(name)
        if found is None:
            from loregate.answering import build_answer_service

            found = build_answer_service(self, name)
            self._answer_services[name] = found
        return found

    @cached_property
    def run_store(self) -> RunStore:
        from evals.run_store import RunStore

        return RunStore(self.engine)
