"""Choosing what to quote: score every unit of every source against the question, keep the
best (and a second one when it adds what the first misses), and say how sure that is.

A unit's score mixes, in order of weight:
- coverage: the share of the question's terms (IDF-weighted over the request's units) that
  the unit holds; its heading and its source's label count at a lower weight;
- meaning: the cosine similarity of unit and question in the sentence encoder's space, for the
  best lexical candidates only (the encoder is the costly part);
- kind: whether the unit has what the question asks for (a number for "how many", a date for
  "when", a modal verb for "can I");
- the source's rank (retrieval put the best first) and a penalty for very long units.

The confidence is the best unit's score, raised when it stands clear of the best unit of any
other source and lowered when much of the question is missing from it. It is a score, not a
probability: the gateway compares it with the model's calibrated ``min_confidence``.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from gateway.extraction.signals import (
    QuestionFacts,
    answers_kind,
    idf_table,
    read_question,
    terms,
)
from gateway.extraction.sources import SourcedQuestion
from gateway.extraction.units import Unit, units_of, words

NOT_FOUND = "The sources do not contain the answer."  # the answer prompt's own sentence
SEMANTIC_CANDIDATES = 4  # units the encoder compares with the question, when it is asked
AMBIGUOUS = 0.1


class SentenceEncoder(Protocol):
    """Unit-length sentence vectors (the bundled embedder is one)."""

    def embed_documents(self, texts: Sequence[str]) -> Any: ...


@dataclass(frozen=True)
class Scored:
    unit: Unit
    score: float
    coverage: float
    meaning: float
    present: frozenset[str]


@dataclass(frozen=True)
class Extract:
    text: str
    confidence: float
    units: tuple[Unit, ...]

    @property
    def found(self) -> bool:
        return bool(self.units)


def _lexical(
    q: QuestionFacts, unit: Unit, label: str, idf: dict[str, float], default_idf: float
) -> tuple[float, float, frozenset[str]]:
    """(coverage in the unit, extra coverage from its heading and label, terms found)."""
    total = sum(idf.get(t, default_idf) for t in q.terms) or 1.0
    own = terms(unit.quoted)
    present = frozenset(own) & frozenset(q.terms)
    around = (frozenset(terms(f"{unit.context} {label}")) & frozenset(q.terms)) - present
    coverage = sum(idf.get(t, default_idf) for t in present) / total
    extra = sum(idf.get(t, default_idf) for t in around) / total
    pairs = set(itertools.pairwise(own))
    if q.bigrams and pairs & q.bigrams:
        coverage = min(1.0, coverage + 0.1 * len(pairs & q.bigrams) / len(q.bigrams))
    return coverage, extra, present


def _score(
    coverage: float, extra: float, meaning: float | None, kind: float, rank: int, length: int
) -> float:
    lexical = coverage + 0.35 * extra
    if meaning is None:
        mixed = 0.8 * lexical + 0.2 * kind
    else:
        mixed = 0.5 * lexical + 0.35 * max(0.0, meaning) + 0.15 * kind
    prior = 1.0 / (1.0 + 0.08 * rank)
    long_penalty = 1.0 / (1.0 + max(0, length - 60) / 80)
    return mixed * prior * long_penalty


def extract(
    sq: SourcedQuestion, encoder: SentenceEncoder | None = None, *, max_units: int = 2
) -> Extract:
    q = read_question(sq.question)
    units = [u for s in sq.sources for u in units_of(s)]
    if not q.terms or not units:
        return Extract(NOT_FOUND, 0.0, ())
    labels = {s.n: s.heading for s in sq.sources}
    ranks = {s.n: i for i, s in enumerate(sq.sources)}
    idf = idf_table(terms(u.quoted) for u in units)
    default_idf = max(idf.values(), default=1.0)
    lexical = [(u, *_lexical(q, u, labels[u.source], idf, default_idf)) for u in units]
    lexical.sort(key=lambda x: (-(x[1] + 0.35 * x[2]), ranks[x[0].source], x[0].index))
    head = [x for x in lexical[:8] if x[1] + x[2] > 0]
    if not head:
        return Extract(NOT_FOUND, 0.0, ())
    meanings: list[float | None] = [None] * len(head)
    if encoder is not None and _ambiguous(head):
        head = head[:SEMANTIC_CANDIDATES]
        meanings = meanings[: len(head)]
        texts = [q.text] + [f"{u.context}: {u.quoted}" if u.context else u.quoted for u, *_ in head]
        vectors = encoder.embed_documents(texts)
        meanings = [
            float(sum(a * b for a, b in zip(vectors[0], v, strict=False))) for v in vectors[1:]
        ]
    scored = sorted(
        (
            Scored(
                u,
                _score(
                    cov, extra, m, answers_kind(u.quoted, q.kinds), ranks[u.source], words(u.quoted)
                ),
                cov,
                m if m is not None else 0.0,
                present,
            )
            for (u, cov, extra, present), m in zip(head, meanings, strict=True)
        ),
        key=lambda s: (-s.score, ranks[s.unit.source], s.unit.index),
    )
    best = scored[0]
    if best.coverage == 0 and best.meaning < 0.35:
        return Extract(NOT_FOUND, 0.0, ())
    chosen = [best, *_companions(best, scored, q, idf, default_idf, max_units - 1)]
    chosen.sort(key=lambda s: (ranks[s.unit.source], s.unit.index))
    return Extract(
        render([s.unit for s in chosen]),
        _confidence(best, scored, ranks[best.unit.source]),
        tuple(s.unit for s in chosen),
    )


def _ambiguous(head: list[tuple[Unit, float, float, frozenset[str]]]) -> bool:
    """Do the lexical signals leave the choice open: is the best unit of another source within
    ``AMBIGUOUS`` of the best one? Only then is the encoder asked (it is the costly part)."""
    if len(head) < 2:
        return False
    first = head[0][1] + 0.35 * head[0][2]
    for u, cov, extra, _ in head[1:]:
        if u.source != head[0][0].source:
            return cov + 0.35 * extra >= (1 - AMBIGUOUS) * first
    return False


def _companions(
    best: Scored,
    scored: list[Scored],
    q: QuestionFacts,
    idf: dict[str, float],
    default_idf: float,
    room: int,
) -> list[Scored]:
    """Units worth quoting with the best: the item that a unit ending in ``:`` introduces, or
    a close second that holds a part of the question the best misses."""
    out: list[Scored] = []
    total = sum(idf.get(t, default_idf) for t in q.terms) or 1.0
    covered = set(best.present)
    for s in scored[1:]:
        if len(out) >= room:
            break
        follows = s.unit.source == best.unit.source and s.unit.index == best.unit.index + 1
        if follows and best.unit.text.rstrip().endswith(":"):
            out.append(s)
            covered |= s.present
            continue
        gain = sum(idf.get(t, default_idf) for t in s.present - covered) / total
        if s.score >= 0.6 * best.score and gain >= 0.2:
            out.append(s)
            covered |= s.present
    return out


def _confidence(best: Scored, scored: list[Scored], rank: int) -> float:
    """Higher when the best unit stands clear of other sources', covers more of the question,
    and comes from a source retrieval ranked high (a low-ranked source's best line is more
    often the wrong document)."""
    other = next((s.score for s in scored if s.unit.source != best.unit.source), 0.0)
    margin = min(1.0, max(0.0, best.score - other) / max(best.score, 1e-9))
    value = best.score * (0.8 + 0.4 * margin) * (0.6 + 0.4 * best.coverage) / (1 + 0.25 * rank)
    return round(min(1.0, max(0.0, value)), 4)


def render(units: Sequence[Unit]) -> str:
    """The quoted units, each run of one source followed by its citation ``[n]``."""
    parts: list[str] = []
    run: list[Unit] = []
    for unit in [*units, None]:
        if unit is not None and run and unit.source == run[-1].source and unit.kind != "row":
            run.append(unit)
            continue
        if run:
            if run[0].kind == "row":
                parts.append("\n".join(u.quoted for u in run) + f"\n[{run[0].source}]")
            else:
                parts.append(" ".join(u.text for u in run) + f" [{run[0].source}]")
        run = [unit] if unit is not None else []
    return "\n\n".join(parts)
