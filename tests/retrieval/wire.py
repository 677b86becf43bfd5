"""Helpers: the answer service and the gateway against the wire
emulator (Anthropic provider over HTTP), on a real store holding the test corpus."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from gateway.config import load_config
from gateway.hooks import Admission, CallContext, RequestFacts
from gateway.ledger import MemoryLedger
from gateway.provider_registry import ProviderRegistry
from gateway.providers.anthropic import AnthropicProvider
from gateway.route_catalogue import RouteCatalogue
from gateway.service import Gateway
from governance.prompt_types import PromptSource
from retrieval import schema
from retrieval.answer import AnswerConfig, AnswerService
from retrieval.context_builder import ContextBuilder
from retrieval.prompt_source import PackagedPrompts
from retrieval.response_cache import MemoryBackend, ResponseCache
from retrieval.review import ReviewQueue
from retrieval.search import HybridSearcher
from retrieval.sparse import SparseEncoder
from retrieval.store.base import IndexStore
from testkit.clock import ManualClock
from testkit.embedders import FakeEmbedder
from testkit.emulator import EmulatorServer
from tests.retrieval.helpers import CORPUS, Doc, NoRedaction, make_store, points


def wire_gateway(emu: EmulatorServer, ledger: MemoryLedger, hooks: Any = None) -> Gateway:
    registry = ProviderRegistry(
        {
            "anthropic": AnthropicProvider(api_key="test", base_url=emu.base_url),
            "openai": None,
            "local": None,
        }
    )
    return Gateway(
        RouteCatalogue(load_config(), registry),
        hooks=hooks,
        ledger=ledger,
        sleep=ManualClock().sleep,
    )


def asked_models(emu: EmulatorServer) -> list[str]:
    """The model of every Messages call the emulator received (token counts left out), as
    its alias (a pinned id's date suffix dropped)."""
    return [re.sub(r"-\d{8}$", "", str(r.model)) for r in emu.requests if r.path == "/v1/messages"]


def index(
    store: IndexStore,
    embedder: FakeEmbedder,
    sparse: SparseEncoder,
    docs: list[Doc],
    content_hash: str = "h1",
) -> None:
    """(Re-)ingest ``docs`` as ingestion does: same chunk ids, the document's content hash."""
    pts = points(docs, embedder, sparse)
    for p in pts:
        p.payload[schema.CONTENT_HASH] = content_hash
    store.upsert(pts)
    store.optimize()


def corpus_store(
    backend: str,
    root: Path,
    embedder: FakeEmbedder,
    sparse: SparseEncoder,
    docs: list[Doc] | None = None,
) -> IndexStore:
    store = make_store(backend, root)
    store.ensure_collection(embedder.dim)
    index(store, embedder, sparse, CORPUS if docs is None else docs)
    return store


class Downgrade:
    """Governance hooks that move every request to the ``economy`` route (soft budget limit)."""

    def __init__(self) -> None:
        self.admitted: list[CallContext] = []
        self.settled = 0

    async def admit(self, ctx: CallContext) -> Admission:
        self.admitted.append(ctx)
        return Admission(
            route="economy", request=ctx.request, downgraded_reason="budget b past its soft limit"
        )

    async def settle(self, facts: RequestFacts) -> None:
        self.settled += 1


class WireRig:
    """An answer service over ``store``, a gateway to the emulator, a memory ledger and (with
    an engine) the review queue."""

    def __init__(
        self,
        emu: EmulatorServer,
        store: IndexStore,
        embedder: FakeEmbedder,
        sparse: SparseEncoder,
        engine: Any = None,
        *,
        hooks: Any = None,
        builder: ContextBuilder | None = None,
        config: AnswerConfig | None = None,
        prompts: PromptSource | None = None,
    ) -> None:
        self.emu = emu
        self.ledger = MemoryLedger()
        self.gateway = wire_gateway(emu, self.ledger, hooks)
        self.review = ReviewQueue(engine, NoRedaction()) if engine is not None else None
        self.service = AnswerService(
            searcher=HybridSearcher(store, embedder, sparse),
            gateway=self.gateway,
            prompts=prompts or PackagedPrompts(),
            index_version=lambda: "1.x",
            review=self.review,
            cache=ResponseCache(MemoryBackend()),
            builder=builder,
            config=config,
        )

    def models(self) -> list[str]:
        return asked_models(self.emu)

    async def aclose(self) -> None:
        await self.gateway.aclose()
