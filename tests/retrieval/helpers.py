"""Retrieval test helpers: a small corpus on a real store (both
backends), a fake embedder (no torch), the real BM25 encoder, and an answer service over a
scripted gateway."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from gateway.hooks import NoGovernance
from gateway.ledger import MemoryLedger
from governance.redaction import NullRedactor
from kernel.principal import Principal
from retrieval import index_version, schema
from retrieval.prompt_source import PackagedPrompts
from retrieval.sparse import SparseEncoder
from retrieval.store.base import ChunkPoint, IndexStore
from retrieval.store.factory import build_store
from testkit.clock import ManualClock
from testkit.embedders import FakeEmbedder
from testkit.scripted import ScriptedProvider
from tests.graphs import rig_graph, rig_settings

HAIKU = "claude-haiku-4-5-20251001"
SONNET = "claude-sonnet-4-6"
OPUS = "claude-opus-4-8"
BACKENDS = ("edge", "memory")


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
    """An answer service over ``store`` on ``engine`` (review queue, index version), a gateway
    of scripted providers and a memory ledger, built by the app's own builder with overrides."""

    def __init__(
        self,
        store: IndexStore,
        embedder: FakeEmbedder,
        sparse: SparseEncoder,
        engine: Engine,
        *,
        anthropic: bool = True,
        local: bool = False,
    ) -> None:
        self.clock = ManualClock(follows_real_time=True)
        self.anthropic = ScriptedProvider("anthropic")
        self.local = ScriptedProvider("local")
        self.ledger = MemoryLedger()
        self.graph = rig_graph(
            {
                "anthropic": self.anthropic if anthropic else None,
                "local": self.local if local else None,
            },
            **answer_overrides(store, embedder, engine),
            clock=self.clock,
            sleep=self.clock.sleep,
            ledger=self.ledger,
        )
        self.gateway = self.graph.gateway
        self.review = self.graph.review_queue
        self.cache = self.graph.response_cache
        self.service = self.graph.answer_service()

    def reindex(self) -> str:
        """What any ingestion does to the collection: a new index version."""
        return index_version.bump(self.graph.engine, self.graph.settings.collection)


def answer_overrides(store: IndexStore, embedder: FakeEmbedder, engine: Engine) -> dict[str, Any]:
    """The overrides of an answer service on a test corpus: its store as the collection's,
    the fake embedder, ``engine``, the packaged prompt templates, no governance, no
    redaction."""
    return {
        "stores": {rig_settings().collection: store},
        "embedder": embedder,
        "engine": engine,
        "prompts": PackagedPrompts(),
        "hooks": NoGovernance(),
        "redactor": NullRedactor(),
    }
