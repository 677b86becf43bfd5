"""What a test, a benchmark or an embedding program may put in place of a part the builder
would otherwise make from the settings. Every field left ``None`` is built as configured."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sqlalchemy import Engine

from evals.answerers import AskService
from evals.runner import Scorer
from gateway.config import GatewayConfig
from gateway.hooks import GovernanceHooks
from gateway.ledger.writer import LedgerSink
from gateway.providers.base import Provider
from governance.prompt_types import PromptSource
from governance.redaction import Redaction
from kernel.auth import Authenticate
from kernel.clock import Clock, Sleep
from retrieval.embedder import TextEmbedder
from retrieval.store.base import IndexStore

JobRunner = Callable[[Callable[[], None]], None]
"""Runs an ingestion job body: in a thread by default, inline in tests."""


@dataclass(frozen=True)
class Overrides:
    # Gateway ----------------------------------------------------------------------------------
    # Provider name ("anthropic", "openai", "local") -> provider, or None to make it unavailable.
    # Providers not named here are built from the settings.
    providers: Mapping[str, Provider | None] | None = None
    # Routes, models and prices as data, in place of the file LOREGATE_CONFIG names.
    gateway_config: GatewayConfig | None = None
    # Time for the gateway, its circuit breakers and governance; ``sleep`` for its retries.
    clock: Clock | None = None
    sleep: Sleep | None = None
    # Where the gateway records each request (a MemoryLedger in tests), in place of the SQL
    # ledger writer.
    ledger: LedgerSink | None = None
    # The gateway's admit/settle hooks in place of governance (``NoGovernance()``: none at all).
    hooks: GovernanceHooks | None = None

    # Storage and governance -------------------------------------------------------------------
    # A database the caller opened (and disposes), in place of the one the settings name.
    engine: Engine | None = None
    # PII redaction (``NullRedactor()`` in tests that are not about it: presidio loads slowly).
    redactor: Redaction | None = None
    # Who every request is (a fixed principal in tests), instead of API keys.
    authenticate: Authenticate | None = None

    # Retrieval and ingestion ------------------------------------------------------------------
    embedder: TextEmbedder | None = None
    # Collection -> store (an in-memory or pre-filled store for tests).
    stores: Mapping[str, IndexStore] | None = None
    # The answer service's prompt templates, in place of the prompt registry.
    prompts: PromptSource | None = None
    run_job: JobRunner | None = None

    # Evals: an answer service and a scorer in place of the real ones (``loregate eval run``).
    ask_service: AskService | None = None
    eval_scorer: Scorer | None = None
