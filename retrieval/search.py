"""Hybrid search: dense and sparse queries against the store, both filtered inside the
store's query by the asker's ``SearchFilter``, fused into one ranking (``retrieval.fusion``).
The sparse query scores each chunk's text and heading fields at once (both are in its one
sparse vector: ``retrieval.sparse``).

The searcher takes a ``SearchFilter`` only (built by ``retrieval.filters.search_filter`` from
the principal), so no caller can search without the permission filter or filter afterwards.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from kernel.errors import InvalidRequest
from retrieval import schema
from retrieval.fusion import FusionConfig, Hit, document_coherence, fuse
from retrieval.rerank import Reranker
from retrieval.store.base import SearchFilter, SparseVector, VectorStore

MAX_TOP_K = 100
MAX_QUERY_CHARS = 4000


class QueryEmbedder(Protocol):
    def embed_query(self, text: str) -> list[float]: ...


class SparseQueryEncoder(Protocol):
    def encode_query(self, text: str) -> SparseVector: ...


@dataclass(frozen=True)
class SearchConfig:
    candidates: int = 40  # fetched from each retriever before fusion
    fusion: FusionConfig = field(default_factory=FusionConfig)
    use_dense: bool = True
    use_sparse: bool = True

    def __post_init__(self) -> None:
        if self.candidates < 1:
            raise ValueError("candidates must be >= 1")
        if not (self.use_dense or self.use_sparse):
            raise ValueError("at least one of dense and sparse search must be on")


def check_query(query: str) -> str:
    q = query.strip()
    if not q:
        raise InvalidRequest("the question is empty")
    if len(q) > MAX_QUERY_CHARS:
        raise InvalidRequest(f"the question is longer than {MAX_QUERY_CHARS} characters")
    return q


def check_top_k(top_k: int) -> int:
    if not 1 <= top_k <= MAX_TOP_K:
        raise InvalidRequest(f"top_k must be between 1 and {MAX_TOP_K}, got {top_k}")
    return top_k


class HybridSearcher:
    def __init__(
        self,
        store: VectorStore,
        embedder: QueryEmbedder,
        sparse: SparseQueryEncoder,
        config: SearchConfig | None = None,
        reranker: Reranker | None = None,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.sparse = sparse
        self.config = config or SearchConfig()
        self.reranker = reranker

    def search(self, query: str, flt: SearchFilter, top_k: int = 10) -> list[Hit]:
        """The ``top_k`` best chunks ``flt`` allows, best first (synchronous: call in a thread)."""
        q = check_query(query)
        check_top_k(top_k)
        if not flt.access_tokens:
            raise InvalidRequest("a search needs the caller's access tokens")
        limit = max(self.config.candidates, top_k)
        dense = (
            self.store.search_dense(self.embedder.embed_query(q), flt, limit)
            if self.config.use_dense
            else []
        )
        sparse_vec = self.sparse.encode_query(q) if self.config.use_sparse else None
        sparse = (
            self.store.search_sparse(sparse_vec, flt, limit)
            if sparse_vec is not None and sparse_vec.indices
            else []
        )
        fused = fuse(dense, sparse, self.config.fusion)
        boost = self.config.fusion.same_doc_boost
        ranked = document_coherence(fused, boost, schema.DOC_ID)
        if self.reranker is not None:
            ranked = self.reranker.rerank(q, ranked)
        return ranked[:top_k]

    def search_many(self, queries: Sequence[str], flt: SearchFilter, top_k: int) -> list[list[Hit]]:
        return [self.search(q, flt, top_k) for q in queries]
