"""Helpers: the answer service and the gateway against the wire
emulator (Anthropic provider over HTTP), on a real store holding the test corpus."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from gateway.hooks import Admission, CallContext, GovernanceHooks, NoGovernance, RequestFacts
from gateway.ledger import MemoryLedger
from gateway.service import Gateway
from governance.prompt_types import PromptSource
from loregate.graph import Loregate
from loregate.overrides import Overrides
from retrieval import schema
from retrieval.sparse import SparseEncoder
from retrieval.store.base import IndexStore
from testkit.clock import ManualClock
from testkit.embedders import FakeEmbedder
from testkit.emulator import EmulatorServer
from tests.graphs import rig_settings
from tests.retrieval.helpers import CORPUS, Doc, answer_overrides, make_store, points


def wire_graph(
    emu: EmulatorServer,
    ledger: MemoryLedger,
    *,
    settings: dict[str, Any] | None = None,
    **overrides: Any,
) -> Loregate:
    """A graph whose Anthropic provider is the production one, pointed at the emulator (the
    other providers off), recording to ``ledger``, never waiting between retries, with no
    governance unless ``hooks`` are given. ``settings`` (field values) go on top of the rig's."""
    values = {"anthropic_api_key": "test", "anthropic_base_url": emu.base_url, **(settings or {})}
    overrides.setdefault("hooks", NoGovernance())
    return Loregate(
        rig_settings(**values),
        Overrides(
            providers={"openai": None, "local": None, "extractive": None},
            ledger=ledger,
            sleep=ManualClock().sleep,
            **overrides,
        ),
    )


def wire_gateway(emu: EmulatorServer, ledger: MemoryLedger, hooks: Any = None) -> Gateway:
    return wire_graph(emu, ledger, hooks=hooks or NoGovernance()).gateway


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
    """An answer service over ``store`` on ``engine``, a gateway to the emulator and a memory
    ledger, built by the app's own builder. ``settings`` are field values (e.g.
    ``min_relevance``, ``prompt_cache_padding``); ``prompts`` replace the packaged templates."""

    def __init__(
        self,
        emu: EmulatorServer,
        store: IndexStore,
        embedder: FakeEmbedder,
        sparse: SparseEncoder,
        engine: Engine,
        *,
        hooks: GovernanceHooks | None = None,
        prompts: PromptSource | None = None,
        **settings: Any,
    ) -> None:
        self.emu = emu
        self.ledger = MemoryLedger()
        overrides = answer_overrides(store, embedder, engine)
        overrides["hooks"] = hooks or overrides["hooks"]
        overrides["prompts"] = prompts or overrides["prompts"]
        self.graph = wire_graph(emu, self.ledger, settings=settings, **overrides)
        self.gateway = self.graph.gateway
        self.review = self.graph.review_queue
        self.service = self.graph.answer_service()

    def models(self) -> list[str]:
        return asked_models(self.emu)

    async def aclose(self) -> None:
        await self.graph.aclose()
