"""The vector store protocol. Every backend passes the shared suite in tests/retrieval/store/.

``VectorStore`` is what search needs. ``IndexStore`` extends it with what ingestion and the
document endpoints need (reading chunks back, finishing a batch of writes); both backends
(``retrieval.store.edge`` and ``retrieval.store.server``) implement ``IndexStore``, and
``retrieval.store.factory.build_store`` returns one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class SparseVector:
    indices: list[int]
    values: list[float]


@dataclass(frozen=True)
class ChunkPoint:
    """One chunk as stored: id (a UUID string), vectors and payload (keys in retrieval.schema)."""

    id: str
    dense: list[float]
    sparse: SparseVector
    payload: dict[str, Any]


@dataclass(frozen=True)
class SearchFilter:
    """Conditions applied inside the store's query, before ranking.

    ``access_tokens`` is mandatory for every search path: a point matches only when its
    ``access`` list shares a token with it. The other fields narrow further when set.
    """

    access_tokens: tuple[str, ...]
    doc_types: tuple[str, ...] = ()
    departments: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    doc_ids: tuple[str, ...] = ()
    updated_from: float | None = None
    updated_to: float | None = None


@dataclass(frozen=True)
class ScoredChunk:
    id: str
    score: float
    payload: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class VectorStore(Protocol):
    """Synchronous on purpose: both backends are; async callers use a thread."""

    def ensure_collection(self, dense_dim: int) -> None: ...

    def upsert(self, points: Sequence[ChunkPoint]) -> None: ...

    def delete(self, ids: Sequence[str]) -> None: ...

    def ids_for_doc(self, doc_id: str) -> list[str]: ...

    def search_dense(
        self, vector: Sequence[float], flt: SearchFilter, limit: int
    ) -> list[ScoredChunk]: ...

    def search_sparse(
        self, vector: SparseVector, flt: SearchFilter, limit: int
    ) -> list[ScoredChunk]: ...

    def count(self, flt: SearchFilter | None = None) -> int: ...

    def close(self) -> None: ...


class StoreError(RuntimeError):
    """The vector store cannot do what was asked (the message says what and how to fix it)."""


@runtime_checkable
class IndexStore(VectorStore, Protocol):
    """A ``VectorStore`` that ingestion can manage."""

    @property
    def description(self) -> str:
        """Where the data lives, for messages ("embedded at ...", "server at ...")."""
        ...

    def retrieve(self, ids: Sequence[str]) -> list[ScoredChunk]:
        """The points with these ids (score 0.0), in the order given; missing ids are skipped."""
        ...

    def chunks_of_doc(self, doc_id: str, flt: SearchFilter) -> list[ScoredChunk]:
        """Every chunk of one document that ``flt`` allows, ordered by chunk index."""
        ...

    def optimize(self) -> None:
        """Persist and index what was written (embedded: flush + build HNSW; server: no-op)."""
        ...
