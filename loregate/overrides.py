"""What a test, a benchmark or an embedding program may put in place of a part the builder
would otherwise make from the settings. Every field left ``None`` is built as configured."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from evals.answerers import AskService
from evals.runner import Scorer
from gateway.providers.base import Provider
from kernel.auth import Authenticate
from kernel.clock import Clock, Sleep
from retrieval.embedder import TextEmbedder
from retrieval.store.base import IndexStore

JobRunner = Callable[[Callable[[], None]], None]
"""Runs an ingestion job body: in a thread by default, inline in tests."""


@dataclass(frozen=True)
class Overrides:
    # Provider name ("anthropic", "openai", "local") -> provider, or None to make it unavailable.
    # Providers not named here are built from the settings.
    providers: Mapping[str, Provider | None] | None = None
    clock: Clock | None = None
    sleep: Sleep | None = None
    embedder: TextEmbedder | None = None
    # Collection -> store (an in-memory or pre-filled store for tests).
    stores: Mapping[str, IndexStore] | None = None
    run_job: JobRunner | None = None
    # Who every request is (a fixed principal in tests), instead of API keys.
    authenticate: Authenticate | None = None
    # Evals: an answer service and a scorer in place of the real ones (``loregate eval run``).
    ask_service: AskService | None = None
    eval_scorer: Scorer | None = None
