"""Citations: the [n] markers of an answer, mapped back to the numbered sources."""

from __future__ import annotations

import re
from dataclasses import dataclass

from retrieval.answer_types import Citation, Passage
from retrieval.context_builder import Source

# [1], [1, 2], [1,2,3], [1-3], [1–3]; also "[Source 1]" and "[source 2, 3]".
_MARKER = re.compile(r"\[\s*(?:sources?\s*)?(\d{1,3}(?:\s*(?:,|-|–)\s*\d{1,3})*)\s*\]", re.I)
_MAX_RANGE = 50


@dataclass(frozen=True)
class CitationCheck:
    cited: tuple[int, ...]  # distinct numbers, in order of first use
    invalid: tuple[int, ...]  # numbers not among the sources given

    @property
    def valid(self) -> tuple[int, ...]:
        bad = set(self.invalid)
        return tuple(n for n in self.cited if n not in bad)


def cited_numbers(text: str) -> list[int]:
    """Every source number the text cites, in order of first use, each once."""
    seen: list[int] = []
    for m in _MARKER.finditer(text):
        for part in re.split(r"\s*,\s*", m.group(1)):
            bounds = re.split(r"\s*[-–]\s*", part)
            if len(bounds) == 2:
                lo, hi = int(bounds[0]), int(bounds[1])
                nums = list(range(lo, hi + 1)) if 0 <= hi - lo <= _MAX_RANGE else [lo, hi]
            else:
                nums = [int(bounds[0])]
            for n in nums:
                if n not in seen:
                    seen.append(n)
    return seen


def check_citations(text: str, n_sources: int) -> CitationCheck:
    cited = cited_numbers(text)
    return CitationCheck(
        cited=tuple(cited), invalid=tuple(n for n in cited if not 1 <= n <= n_sources)
    )


def citation_for(source: Source) -> Citation:
    return Citation(
        n=source.n,
        chunk_id=source.chunk_id,
        doc_id=source.doc_id,
        title=source.title,
        section=source.section,
        source=source.source,
        score=source.score,
        text=source.text,
        chunk_ids=list(source.chunk_ids),
    )


def map_citations(text: str, sources: list[Source]) -> list[Citation]:
    """The citations the answer uses (valid numbers only), in order of first use."""
    by_n = {s.n: s for s in sources}
    return [citation_for(by_n[n]) for n in cited_numbers(text) if n in by_n]


def passage_for(source: Source) -> Passage:
    return Passage(
        chunk_id=source.chunk_id,
        doc_id=source.doc_id,
        title=source.title,
        section=source.section,
        source=source.source,
        doc_type=source.doc_type,
        score=source.score,
        text=source.text,
    )
