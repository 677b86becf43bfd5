"""Fusing the dense and the sparse result lists into one ranking.

Three methods, chosen by ``FusionConfig.method`` (``benchmarks/retrieval_quality.py`` measures
each on the same run):

- ``rrf``: reciprocal rank fusion, ``sum(w / (k + rank))``; blind to score scales.
- ``convex``: a weighted sum of min-max normalised scores (Bruch et al., 2023: a convex
  combination beats RRF when the weight is tuned on a little data).
- ``dbsf``: distribution-based score fusion (Qdrant's): each list normalised by mean ± 3
  standard deviations, then summed with the weights.

A chunk missing from one list scores 0 there (it was below that list's top ``limit``).

``document_coherence`` then re-ranks the fused list greedily, multiplying a chunk's score by
``(1 + boost) ** k`` where ``k`` is how many chunks of its document already rank above it:
several hits in one document are evidence for each other (clauses of one contract, sections
of one policy), and the context builder merges adjacent ones into one source. It is off by
default: it fills the context with pieces of one document, which costs the recall of the
chunks sent more than it gains in rank (benchmarks/retrieval_variants.py).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from retrieval.store.base import ScoredChunk

FusionMethod = Literal["rrf", "convex", "dbsf"]


@dataclass(frozen=True)
class FusionConfig:
    method: FusionMethod = "dbsf"
    dense_weight: float = 0.5  # sparse weight is 1 - dense_weight for convex/dbsf
    rrf_k: int = 60
    same_doc_boost: float = 0.0  # see ``document_coherence`` (off: it crowds the context)

    def __post_init__(self) -> None:
        if not 0.0 <= self.dense_weight <= 1.0:
            raise ValueError(f"dense_weight must be within [0, 1], got {self.dense_weight}")
        if not 0.0 <= self.same_doc_boost <= 1.0:
            raise ValueError(f"same_doc_boost must be within [0, 1], got {self.same_doc_boost}")
        if self.rrf_k < 1:
            raise ValueError(f"rrf_k must be >= 1, got {self.rrf_k}")


@dataclass(frozen=True)
class Hit:
    """One fused result: the fused score plus what each retriever said about the chunk."""

    id: str
    score: float
    payload: dict[str, Any] = field(default_factory=dict)
    dense_score: float | None = None
    sparse_score: float | None = None
    dense_rank: int | None = None  # 1-based
    sparse_rank: int | None = None

    def with_score(self, score: float) -> Hit:
        return replace(self, score=score)


def _minmax(scores: Sequence[float]) -> list[float]:
    if not scores:
        return []
    lo, hi = min(scores), max(scores)
    if hi - lo < 1e-12:
        return [1.0 for _ in scores]
    return [(s - lo) / (hi - lo) for s in scores]


def _dbsf(scores: Sequence[float]) -> list[float]:
    if not scores:
        return []
    mean = sum(scores) / len(scores)
    std = math.sqrt(sum((s - mean) ** 2 for s in scores) / len(scores))
    if std < 1e-12:
        return [1.0 for _ in scores]
    lo, hi = mean - 3 * std, mean + 3 * std
    return [min(1.0, max(0.0, (s - lo) / (hi - lo))) for s in scores]


def fuse(
    dense: Sequence[ScoredChunk],
    sparse: Sequence[ScoredChunk],
    config: FusionConfig | None = None,
) -> list[Hit]:
    """One ranking from both lists (each sorted best first), best first; ties broken by id."""
    cfg = config or FusionConfig()
    wd, ws = cfg.dense_weight, 1.0 - cfg.dense_weight
    fused: dict[str, float] = {}
    payloads: dict[str, dict[str, Any]] = {}
    d_score: dict[str, float] = {}
    s_score: dict[str, float] = {}
    d_rank: dict[str, int] = {}
    s_rank: dict[str, int] = {}

    if cfg.method == "rrf":
        d_norm = [1.0 / (cfg.rrf_k + r) for r in range(1, len(dense) + 1)]
        s_norm = [1.0 / (cfg.rrf_k + r) for r in range(1, len(sparse) + 1)]
        # RRF is usually unweighted; weights 0.5/0.5 keep it so (scaled by a constant).
    elif cfg.method == "convex":
        d_norm = _minmax([c.score for c in dense])
        s_norm = _minmax([c.score for c in sparse])
    else:
        d_norm = _dbsf([c.score for c in dense])
        s_norm = _dbsf([c.score for c in sparse])

    for rank, (chunk, norm) in enumerate(zip(dense, d_norm, strict=True), start=1):
        fused[chunk.id] = fused.get(chunk.id, 0.0) + wd * norm
        payloads.setdefault(chunk.id, chunk.payload)
        d_score[chunk.id], d_rank[chunk.id] = chunk.score, rank
    for rank, (chunk, norm) in enumerate(zip(sparse, s_norm, strict=True), start=1):
        fused[chunk.id] = fused.get(chunk.id, 0.0) + ws * norm
        payloads.setdefault(chunk.id, chunk.payload)
        s_score[chunk.id], s_rank[chunk.id] = chunk.score, rank

    hits = [
        Hit(
            id=cid,
            score=score,
            payload=payloads[cid],
            dense_score=d_score.get(cid),
            sparse_score=s_score.get(cid),
            dense_rank=d_rank.get(cid),
            sparse_rank=s_rank.get(cid),
        )
        for cid, score in fused.items()
    ]
    hits.sort(key=lambda h: (-h.score, h.id))
    return hits


def document_coherence(hits: Sequence[Hit], boost: float, doc_key: str = "doc_id") -> list[Hit]:
    """Greedy re-rank: each pick multiplies later chunks of its document by ``1 + boost``."""
    if boost <= 0 or len(hits) < 2:
        return list(hits)
    pool = list(hits)
    picked: list[Hit] = []
    seen: dict[str, int] = {}
    while pool:
        best_i, best_score = 0, -1.0
        for i, h in enumerate(pool):
            doc = str(h.payload.get(doc_key, h.id))
            score = h.score * (1.0 + boost) ** seen.get(doc, 0)
            if score > best_score or (score == best_score and h.id < pool[best_i].id):
                best_i, best_score = i, score
        h = pool.pop(best_i)
        doc = str(h.payload.get(doc_key, h.id))
        seen[doc] = seen.get(doc, 0) + 1
        picked.append(h.with_score(best_score))
    return picked
