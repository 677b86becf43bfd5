"""Cheap, model-free checks of an answer against the dataset's reference: token F1 (SQuAD's
answer metric: the overlap of the answer's and the reference's words) and whether a citation
points at a gold document."""

from __future__ import annotations

import re
from collections import Counter

from evals.dataset import EvalItem
from retrieval.answer_types import Answer

_WORD = re.compile(r"\w+", re.UNICODE)
_CITATION = re.compile(r"\[\d{1,3}\]")


def token_f1(answer: str, reference: str) -> float:
    """Word-overlap F1; the answer's citation markers ``[n]`` are not words of it."""
    a = Counter(w.casefold() for w in _WORD.findall(_CITATION.sub(" ", answer)))
    b = Counter(w.casefold() for w in _WORD.findall(reference))
    common = sum((a & b).values())
    if not common:
        return 0.0
    precision, recall = common / sum(a.values()), common / sum(b.values())
    return 2 * precision * recall / (precision + recall)


def overlap(item: EvalItem, answer: Answer) -> dict[str, float | None]:
    """``token_f1`` (with a reference) and ``cites_gold`` (with gold documents), for a
    confident answer only: a degraded answer's text is a list of passages, not an answer."""
    if not answer.confident:
        return {"token_f1": None, "cites_gold": None}
    gold = set(item.reference_doc_ids)
    return {
        "token_f1": token_f1(answer.answer, item.reference) if item.reference else None,
        "cites_gold": float(any(c.doc_id in gold for c in answer.citations)) if gold else None,
    }
