"""Cost-aware context: the fewest retrieved chunks that can answer, as numbered sources.

Steps, in order, on the fused hits (best first):

1. **Relevance floor**: drop hits scoring below ``floor_ratio`` x the best hit's score, and,
   when ``min_score`` is set, every hit (the best one too) scoring below it. The relative floor
   is the default: fused scores mean something else for every fusion method. The absolute one
   is opt-in (``LOREGATE_MIN_RELEVANCE``): with the default fusion (``dbsf``) fused scores are
   within [0, 1], and a question whose best hit is under the floor gets no sources at all
   (no model call: "no confident answer", queued for review).
2. **Near-duplicate removal**: a hit whose word-shingle Jaccard similarity with a better kept
   hit is at least ``dup_jaccard`` is dropped (copies of one policy in two folders, a ticket
   quoted in another).
3. **Cap**: at most ``max_chunks`` chunks.
4. **Token budget**: chunks are added best first while the sources fit ``budget_tokens`` (the
   budget of the tier that answers first); the best chunk is always kept, truncated if needed.
5. **Adjacent merge**: kept chunks of one document with consecutive ``chunk_index`` become one
   source (one citation number, text in document order).

A chunk's text starts with its context header (ingestion puts the title and the section
breadcrumb in front of the body, for search). The prompt shows title and section once in each
source's label, so leading text lines that repeat the chunk's title or section are not sent
again (``body_of``): the budget, the near-duplicate check and the source text all see the body.

Sources are numbered 1..n in a deterministic order: best score first, ties by chunk id.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from retrieval import schema
from retrieval.fusion import Hit
from retrieval.tokens import PromptTokenCounter, count_tokens

_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class ContextConfig:
    floor_ratio: float = 0.35
    min_score: float | None = None  # absolute relevance floor on fused scores; None: off
    dup_jaccard: float = 0.85
    max_chunks: int = 6
    budget_tokens: int = 2500
    merge_adjacent: bool = True

    def __post_init__(self) -> None:
        if not 0.0 <= self.floor_ratio <= 1.0:
            raise ValueError("floor_ratio must be within [0, 1]")
        if self.min_score is not None and not (
            math.isfinite(self.min_score) and self.min_score >= 0.0
        ):
            raise ValueError(f"min_score must be a finite number >= 0, got {self.min_score}")
        if not 0.0 < self.dup_jaccard <= 1.0:
            raise ValueError("dup_jaccard must be within (0, 1]")
        if self.max_chunks < 1 or self.budget_tokens < 1:
            raise ValueError("max_chunks and budget_tokens must be >= 1")


@dataclass(frozen=True)
class Source:
    """One numbered source in the prompt (one or more adjacent chunks of one document)."""

    n: int
    chunk_ids: tuple[str, ...]
    doc_id: str
    title: str
    section: str
    source: str
    doc_type: str
    score: float
    text: str
    chunk_indexes: tuple[int, ...] = field(default=())
    content_hash: str = ""  # the document's, when the source was read (see retrieval.reviewed)

    @property
    def chunk_id(self) -> str:
        return self.chunk_ids[0]


def _shingles(text: str, k: int = 3) -> frozenset[tuple[str, ...]]:
    words = _WORD.findall(text.lower())
    if len(words) < k:
        return frozenset({tuple(words)}) if words else frozenset()
    return frozenset(tuple(words[i : i + k]) for i in range(len(words) - k + 1))


def jaccard(a: frozenset[tuple[str, ...]], b: frozenset[tuple[str, ...]]) -> float:
    if not a and not b:
        return 1.0
    union = len(a | b)
    return len(a & b) / union if union else 0.0


def _text(hit: Hit) -> str:
    return str(hit.payload.get(schema.TEXT, ""))


def _norm(text: str) -> str:
    return " ".join(text.split())


def body_of(hit: Hit) -> str:
    """The chunk's text without leading lines that repeat its title or section (its context
    header, already in the source's label); the last line is always kept."""
    text = _text(hit)
    labels = {_norm(str(hit.payload.get(k, ""))) for k in (schema.TITLE, schema.SECTION)} - {""}
    if not labels:
        return text
    lines = text.split("\n")
    start = 0
    while start < len(lines) - 1 and _norm(lines[start]) in labels:
        start += 1
    return "\n".join(lines[start:]) if start else text


def _truncate(text: str, budget: int, counter: PromptTokenCounter) -> str:
    if counter(text) <= budget:
        return text
    words = text.split()
    lo, hi = 0, len(words)
    while lo < hi:  # the longest word prefix that fits
        mid = (lo + hi + 1) // 2
        if counter(" ".join(words[:mid])) <= budget:
            lo = mid
        else:
            hi = mid - 1
    return " ".join(words[:lo]) + " …"


def merge_sections(sections: Sequence[str], sep: str = " > ") -> str:
    """One label for merged chunks: the shared breadcrumb once, then each tail.

    ["Guide > Leave > Accrual", "Guide > Leave > Carryover"] -> "Guide > Leave > Accrual; Carryover"
    """
    if not sections:
        return ""
    if len(sections) == 1:
        return sections[0]
    parts = [s.split(sep) for s in sections]
    common = 0
    while all(len(p) > common + 1 for p in parts) and len({p[common] for p in parts}) == 1:
        common += 1
    head = sep.join(parts[0][:common])
    tails = "; ".join(sep.join(p[common:]) for p in parts)
    return f"{head}{sep}{tails}" if head else tails


class ContextBuilder:
    def __init__(
        self, config: ContextConfig | None = None, counter: PromptTokenCounter = count_tokens
    ) -> None:
        self.config = config or ContextConfig()
        self.counter = counter

    def select(self, hits: Sequence[Hit], budget_tokens: int | None = None) -> list[Hit]:
        """Steps 1-4: the hits to send, best first (texts possibly truncated to fit)."""
        cfg = self.config
        budget = budget_tokens if budget_tokens is not None else cfg.budget_tokens
        if not hits:
            return []
        ordered = sorted(hits, key=lambda h: (-h.score, h.id))
        floor = ordered[0].score * cfg.floor_ratio
        kept: list[Hit] = []
        kept_shingles: list[frozenset[tuple[str, ...]]] = []
        used = 0
        for hit in ordered:
            if len(kept) >= cfg.max_chunks:
                break
            if kept and hit.score < floor:
                break
            if cfg.min_score is not None and hit.score < cfg.min_score:
                break
            body = body_of(hit)
            sh = _shingles(body)
            if any(jaccard(sh, other) >= cfg.dup_jaccard for other in kept_shingles):
                continue
            tokens = self.counter(body)
            if used + tokens > budget:
                if kept:
                    continue  # a smaller later chunk may still fit
                body = _truncate(body, budget, self.counter)
                tokens = self.counter(body)
            if body != _text(hit):
                hit = replace(hit, payload={**hit.payload, schema.TEXT: body})
            kept.append(hit)
            kept_shingles.append(sh)
            used += tokens
        return kept

    def build(self, hits: Sequence[Hit], budget_tokens: int | None = None) -> list[Source]:
        """The numbered sources for the prompt."""
        kept = self.select(hits, budget_tokens)
        groups = self._merge(kept) if self.config.merge_adjacent else [[h] for h in kept]
        groups.sort(key=lambda g: (-max(h.score for h in g), min(h.id for h in g)))
        return [source_of(n, g) for n, g in enumerate(groups, start=1)]

    @classmethod
    def sources_of(cls, hits: Sequence[Hit]) -> list[Source]:
        """Each hit as its own source, in the given order (search results: no selection)."""
        return [source_of(n, [h]) for n, h in enumerate(hits, start=1)]

    @staticmethod
    def _merge(kept: list[Hit]) -> list[list[Hit]]:
        by_doc: dict[str, list[Hit]] = {}
        loose: list[list[Hit]] = []
        for h in kept:
            doc = h.payload.get(schema.DOC_ID)
            idx = h.payload.get(schema.CHUNK_INDEX)
            if doc is None or not isinstance(idx, int):
                loose.append([h])
            else:
                by_doc.setdefault(str(doc), []).append(h)
        groups: list[list[Hit]] = []
        for doc_hits in by_doc.values():
            doc_hits.sort(key=lambda h: int(h.payload[schema.CHUNK_INDEX]))
            run = [doc_hits[0]]
            for h in doc_hits[1:]:
                if (
                    int(h.payload[schema.CHUNK_INDEX])
                    == int(run[-1].payload[schema.CHUNK_INDEX]) + 1
                ):
                    run.append(h)
                else:
                    groups.append(run)
                    run = [h]
            groups.append(run)
        return groups + loose


def source_of(n: int, group: Sequence[Hit]) -> Source:
    """Source ``n`` made of ``group`` (chunks of one document, in document order)."""
    first = group[0]
    p = first.payload
    sections: list[str] = []
    for h in group:
        s = str(h.payload.get(schema.SECTION, ""))
        if s and s not in sections:
            sections.append(s)
    return Source(
        n=n,
        chunk_ids=tuple(h.id for h in group),
        doc_id=str(p.get(schema.DOC_ID, "")),
        title=str(p.get(schema.TITLE, "")),
        section=merge_sections(sections),
        source=str(p.get(schema.SOURCE, "")),
        doc_type=str(p.get(schema.DOC_TYPE, "")),
        score=max(h.score for h in group),
        text="\n".join(body_of(h) for h in group),
        chunk_indexes=tuple(
            int(h.payload[schema.CHUNK_INDEX])
            for h in group
            if isinstance(h.payload.get(schema.CHUNK_INDEX), int)
        ),
        content_hash=str(p.get(schema.CONTENT_HASH, "")),
    )
