"""The sparse (BM25-style) encoder, computed in-process: no model, no download, no fastembed.

It uses Qdrant's own BM25 implementation as shipped (in Rust) by ``qdrant-edge-py``: the text
is lower-cased, split into words, stop words dropped and words stemmed (Snowball); each token's
id is a stable hash of the token (the same ids Qdrant server's BM25 inference gives), so ids
never depend on a vocabulary or on what else was ingested.

- Documents: each token's weight is BM25's saturated, length-normalised term frequency,
  ``tf * (k + 1) / (tf + k * (1 - b + b * len / avg_len))``.
- Two fields (BM25 per field, summed, like a "most fields" query): the chunk's text as
  above, plus its heading (document title and section breadcrumb, ``schema.heading_text``)
  when the caller gives one. The heading's tokens get a second, saturated but not
  length-normalised term frequency, ``tf * (k + 1) / (tf + k)``, times ``heading_weight``,
  added to the text's weight of the same token. A heading is a short, dense summary of what
  the text is about; its words appearing in the question are strong evidence
  (benchmarks/retrieval_quality.py measures it). The text itself still starts with the
  heading, so ``heading_weight=0`` (or no heading) gives exactly the one-field vectors.
- Queries: each distinct token weighs 1.0.
- IDF is NOT in the vectors: both store backends declare the sparse vector with Qdrant's
  ``Modifier.IDF``, so Qdrant applies the inverse document frequency over the collection at
  query time (always current, nothing to recompute on ingestion). A backend without that
  modifier would score plain saturated tf; both of ours have it.

``config_id`` covers every parameter, so a change re-encodes the corpus on the next ingestion.
The golden test in ``tests/retrieval/store/test_sparse.py`` pins token ids: an upgrade that
changes the hashing fails it loudly instead of silently mismatching old documents and new queries.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from retrieval.store.base import SparseVector


@dataclass(frozen=True)
class SparseConfig:
    k: float = 1.2
    b: float = 0.75
    avg_len: float = 100.0  # tokens left after stop words, typical of our ~200-word-piece chunks
    language: str = "english"
    heading_weight: float = 1.0  # the heading field's weight (0: text only); see module doc

    def __post_init__(self) -> None:
        if self.k < 0:
            raise ValueError("k must be >= 0")
        if not 0.0 <= self.b <= 1.0:
            raise ValueError("b must be within [0, 1]")
        if self.avg_len <= 0:
            raise ValueError("avg_len must be > 0")
        if self.heading_weight < 0:
            raise ValueError("heading_weight must be >= 0")


class SparseEncoder:
    """BM25 document and query vectors with stable hashed token ids."""

    def __init__(self, config: SparseConfig | None = None) -> None:
        self.config = config or SparseConfig()

    @property
    def config_id(self) -> str:
        c = self.config
        base = f"bm25:qdrant:k={c.k}:b={c.b}:avg_len={c.avg_len}:lang={c.language}"
        return f"{base}:heading={c.heading_weight}" if c.heading_weight else base

    @cached_property
    def _bm25(self) -> Any:
        from qdrant_edge import Bm25, Bm25Config

        c = self.config
        return Bm25(Bm25Config(k=c.k, b=c.b, avg_len=c.avg_len, language=c.language))

    @cached_property
    def _bm25_heading(self) -> Any:
        from qdrant_edge import Bm25, Bm25Config

        c = self.config  # b=0: a heading's length says nothing about how much it is about
        return Bm25(Bm25Config(k=c.k, b=0.0, avg_len=c.avg_len, language=c.language))

    def encode_documents(
        self, texts: Sequence[str], headings: Sequence[str] | None = None
    ) -> list[SparseVector]:
        """One vector per text; ``headings`` (one per text, "" for none) adds the heading field."""
        if headings is not None and len(headings) != len(texts):
            raise ValueError(f"{len(texts)} texts but {len(headings)} headings")
        if headings is None:
            return [self.encode_document(t) for t in texts]
        return [self.encode_document(t, h) for t, h in zip(texts, headings, strict=True)]

    def encode_document(self, text: str, heading: str = "") -> SparseVector:
        body = self._bm25.embed_document(text)
        w = self.config.heading_weight
        if not w or not heading.strip():
            return _convert(body)
        merged = dict(zip(body.indices, body.values, strict=True))
        head = self._bm25_heading.embed_document(heading)
        for i, v in zip(head.indices, head.values, strict=True):
            merged[i] = merged.get(i, 0.0) + w * v
        return _pairs(merged.items())

    def encode_query(self, text: str) -> SparseVector:
        """Unit weight per distinct token; empty when the text holds only stop words."""
        return _convert(self._bm25.embed_query(text))


def _convert(vec: Any) -> SparseVector:
    return _pairs(zip(vec.indices, vec.values, strict=True))


def _pairs(items: Iterable[tuple[int, float]]) -> SparseVector:
    pairs = sorted(items)
    return SparseVector(indices=[int(i) for i, _ in pairs], values=[float(v) for _, v in pairs])
