"""Techniques measured by ``retrieval_quality.py`` that loregate does NOT ship (each was tried
and did not add recall@5 on top of the heading field; see docs/retrieval.md):

- RM3 pseudo-relevance feedback on the sparse side (Lavrenko & Croft's relevance model,
  interpolated with the query as in Anserini, with Anserini's defaults: 10 feedback
  documents, 10 expansion terms, original query weight 0.5).
- Passage-level max-sim over sentence windows: each piece is also embedded as overlapping
  windows of about 48 word pieces (its breadcrumb in front); a piece's dense score is the
  best of its own and its windows' cosine (ColBERT-style MaxSim, at window granularity).
  It costs ~6x the embeddings at ingestion.

Both are built from the store's public search calls and ``retrieval.fusion.fuse``, so they
compare with the production hybrid on the same index and the same fusion.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from retrieval import schema
from retrieval.embedder import Embedder
from retrieval.fusion import FusionConfig, fuse
from retrieval.sparse import SparseEncoder
from retrieval.store.base import IndexStore, ScoredChunk, SearchFilter, SparseVector


def rm3_expand(
    query: SparseVector,
    feedback: Sequence[tuple[SparseVector, float]],
    terms: int = 10,
    original_weight: float = 0.5,
) -> SparseVector:
    """The query interpolated with the relevance model of the feedback documents: each term's
    ``P(t|R) = sum_d P(d) * w(t, d) / sum_t' w(t', d)`` with ``P(d)`` the document's share of
    the feedback scores (``w`` the document's BM25 weight); the ``terms`` best are kept."""
    if not query.indices or not feedback:
        return query
    total = sum(max(score, 0.0) for _, score in feedback) or 1.0
    rel: dict[int, float] = {}
    for vec, score in feedback:
        norm = sum(vec.values) or 1.0
        for t, w in zip(vec.indices, vec.values, strict=True):
            rel[t] = rel.get(t, 0.0) + (max(score, 0.0) / total) * w / norm
    best = sorted(rel.items(), key=lambda tw: (-tw[1], tw[0]))[:terms]
    z = sum(w for _, w in best) or 1.0
    q = {t: original_weight / len(query.indices) for t in query.indices}
    for t, w in best:
        q[t] = q.get(t, 0.0) + (1.0 - original_weight) * w / z
    pairs = sorted(q.items())
    return SparseVector([t for t, _ in pairs], [w for _, w in pairs])


def rm3_hybrid(
    store: IndexStore,
    embedder: Embedder,
    sparse: SparseEncoder,
    flt: SearchFilter,
    candidates: int = 40,
    feedback_docs: int = 10,
) -> Callable[[str], list[dict[str, Any]]]:
    """Ranker: BM25 first pass -> RM3-expanded sparse query; fused with dense (DBSF 0.5)."""

    def rank(q: str) -> list[dict[str, Any]]:
        qv = sparse.encode_query(q)
        first = store.search_sparse(qv, flt, feedback_docs)
        fb = [
            (
                sparse.encode_document(
                    str(c.payload.get(schema.TEXT, "")),
                    schema.heading_text(
                        str(c.payload.get(schema.TITLE, "")),
                        str(c.payload.get(schema.SECTION, "")),
                    ),
                ),
                c.score,
            )
            for c in first
        ]
        expanded = store.search_sparse(rm3_expand(qv, fb), flt, candidates)
        dense = store.search_dense(embedder.embed_query(q), flt, candidates)
        return [h.payload for h in fuse(dense, expanded, FusionConfig())]

    return rank


_SENTENCE = re.compile(r"(?<=[.!?;:])\s+|\n+")


def windows(
    heading: str, body: str, count: Callable[[Sequence[str]], list[int]], size: int = 48
) -> list[str]:
    """Overlapping windows of whole sentences, about ``size`` word pieces each, a new one
    every ~``size / 2``; the heading in front of each."""
    sents = [s.strip() for s in _SENTENCE.split(body) if s and s.strip()]
    if not sents:
        return []
    counts = count(sents)
    starts, acc = [0], 0
    for j, n in enumerate(counts):
        if j and acc >= size // 2:
            starts.append(j)
            acc = 0
        acc += n
    out = []
    for s0 in starts:
        parts: list[str] = []
        n, j = 0, s0
        while j < len(sents) and (not parts or n + counts[j] <= size):
            parts.append(sents[j])
            n += counts[j]
            j += 1
        out.append(f"{heading}\n{' '.join(parts)}")
    return out


def maxsim_hybrid(
    store: IndexStore,
    embedder: Embedder,
    sparse: SparseEncoder,
    flt: SearchFilter,
    points: Sequence[ScoredChunk],
    piece_vecs: NDArray[np.float32],
    window_vecs: NDArray[np.float32],
    owner: NDArray[np.int64],
    candidates: int = 40,
) -> Callable[[str], list[dict[str, Any]]]:
    """Ranker: dense list by max-sim over each piece and its windows (exact, in memory),
    fused with the store's sparse list (DBSF 0.5)."""

    def rank(q: str) -> list[dict[str, Any]]:
        qv = np.asarray(embedder.embed_query(q), dtype=np.float32)
        best = piece_vecs @ qv
        np.maximum.at(best, owner, window_vecs @ qv)
        top = np.argsort(-best, kind="stable")[:candidates]
        dense = [ScoredChunk(points[i].id, float(best[i]), points[i].payload) for i in top.tolist()]
        sparse_hits = store.search_sparse(sparse.encode_query(q), flt, candidates)
        return [h.payload for h in fuse(dense, sparse_hits, FusionConfig())]

    return rank
