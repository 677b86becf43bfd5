"""Retrieval test helpers: a small corpus on a real store (both
backends), a fake embedder (no torch), the real BM25 encoder, and an answer service over a
scripted gateway."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gateway.config import load_config
from gateway.ledger import MemoryLedger
from gateway.route_catalogue import RouteCatalogue
from gateway.service import Gateway
from kernel.principal import Principal
from retrieval import schema
from retrieval.answer import AnswerConfig, AnswerService
from retrieval.prompt_source import PackagedPrompts
from retrieval.response_cache import MemoryBackend, ResponseCache
from retrieval.review import ReviewQueue
from retrieval.search import HybridSearcher
from retrieval.sparse import SparseEncoder
from retrieval.store.base import ChunkPoint, IndexStore
from retrieval.store.factory import build_store
from testkit.clock import ManualClock
from testkit.embedders import FakeEmbedder
from testkit.scripted import ScriptedProvider

HAIKU = "claude-haiku-4-5-20251001"
SONNET = "claude-sonnet-4-6"
OPUS = "claude-opus-4-8"
BACKENDS = ("edge", "memory")


class NoRedaction:
    def redact(self, text: str) -> str:
        return text


@dataclass
class Doc:
    doc_id: str
    chunks: list[str]
    access: list[str] = field(default_factory=lambda: ["public"])
    title: str = ""
    doc_type: str = "doc"
    department: str = "ops"
    tags: list[str] = field(default_factory=list)
    updated_at: float = 1_700_000_000.0
    sections: list[str] = field(default_factory=list)


def chunk_id(doc_id: str, index: int) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{doc_id}#{index}"))


def points(docs: Sequence[Doc], embedder: FakeEmbedder, sparse: SparseEncoder) -> list[ChunkPoint]:
    out: list[ChunkPoint] = []
    for d in docs:
        dense = embedder.embed_documents(d.chunks)
        sparse_vecs = sparse.encode_documents(d.chunks)
        for i, text in enumerate(d.chunks):
            payload: dict[str, Any] = {
                schema.DOC_ID: d.doc_id,
                schema.CHUNK_INDEX: i,
                schema.DOC_TYPE: d.doc_type,
                schema.DEPARTMENT: d.department,
                schema.ACCESS: list(d.access),
                schema.SOURCE: f"corpus/{d.doc_id}.md",
                schema.TITLE: d.title or d.doc_id.replace("-", " ").title(),
                schema.SECTION: d.sections[i] if i < len(d.sections) else f"Part {i + 1}",
                schema.TEXT: text,
                schema.TAGS: list(d.tags),
                schema.UPDATED_AT: d.updated_at,
            }
            out.append(
                ChunkPoint(
                    chunk_id(d.doc_id, i), [float(x) for x in dense[i]], sparse_vecs[i], payload
                )
            )
    return out


def make_store(backend: str, root: Path, collection: str = "rt") -> IndexStore:
    return build_store(
        url=":memory:" if backend == "memory" else None, path=root, collection=collection
    )


CORPUS = [
    Doc(
        "msa-contoso",
        [
            "Either party may terminate this Agreement for convenience with ninety days notice.",
            "Either party may terminate immediately for an unremedied material breach.",
            "Liability of each party is capped at the fees paid in the previous twelve months.",
        ],
        access=["dept:legal"],
        title="Master Services Agreement Contoso",
        doc_type="contract",
        department="legal",
        sections=["9.2 Termination for convenience", "9.3 Termination for cause", "12.3 Liability"],
    ),
    Doc(
        "leave-policy",
        [
            "Full-time employees accrue twenty five days of paid annual leave per year.",
            "Parental leave is sixteen weeks at full pay for every parent.",
        ],
        access=["dept:hr"],
        title="Leave Policy",
        department="hr",
        tags=["policy"],
    ),
    Doc(
        "handbook",
        [
            "The office opens at eight and closes at six on working days.",
            "Expenses above one thousand euros need the budget owner's approval.",
        ],
        title="Employee Handbook",
        tags=["handbook"],
    ),
]

LEGAL = Principal(user_id="lena", department="legal")
HR = Principal(user_id="hank", department="hr")
OUTSIDER = Principal(user_id="olga", department="sales")


class Rig:
    """An answer service over ``store``, a gateway of scripted providers and a memory ledger."""

    def __init__(
        self,
        store: IndexStore,
        embedder: FakeEmbedder,
        sparse: SparseEncoder,
        engine: Any = None,
        *,
        anthropic: bool = True,
        local: bool = False,
        config: AnswerConfig | None = None,
    ) -> None:
        self.clock = ManualClock(follows_real_time=True)
        self.anthropic = ScriptedProvider("anthropic")
        self.local = ScriptedProvider("local")
        self.ledger = MemoryLedger()
        self.gateway = Gateway(
            RouteCatalogue(
                load_config(),
                {
                    "anthropic": self.anthropic if anthropic else None,
                    "openai": None,
                    "local": self.local if local else None,
                },
            ),
            ledger=self.ledger,
            clock=self.clock,
            sleep=self.clock.sleep,
        )

        self.index_version = "1.abc"
        self.review = ReviewQueue(engine, NoRedaction()) if engine is not None else None
        self.cache = ResponseCache(MemoryBackend())
        self.service = AnswerService(
            searcher=HybridSearcher(store, embedder, sparse),
            gateway=self.gateway,
            prompts=PackagedPrompts(),
            index_version=lambda: self.index_version,
            review=self.review,
            cache=self.cache,
            config=config,
        )
