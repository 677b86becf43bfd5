"""Retrieval metrics of the passages sent (recall@k, MRR, nDCG@10), computed with ranx.

The ranking is the passages the answer was built from, best score first, reduced to the unit
the gold ids name: documents (a document counts once, at its best passage) or chunks. So
recall@5 is "of the gold documents, the share among the top 5 documents sent to the model".
"""

from __future__ import annotations

import hashlib
import threading
import warnings

from evals.dataset import EvalItem
from evals.metrics.registry import K_VALUES
from retrieval.answer_types import Answer

IR_METRICS = (*(f"recall@{k}" for k in K_VALUES), "mrr", "ndcg@10")
_LOCK = threading.Lock()  # ranx/numba compile on first use; one thread at a time


def _key(doc_id: str) -> str:
    """Ids of one fixed length: ranx compiles its numba kernels once per id length."""
    return hashlib.blake2b(doc_id.encode(), digest_size=8).hexdigest()


def ranked_ids(item: EvalItem, answer: Answer) -> list[str]:
    """Retrieved ids in rank order, in the unit of the item's gold ids (documents or chunks)."""
    by_chunk = not item.reference_doc_ids and bool(item.reference_chunk_ids)
    passages = sorted(answer.passages, key=lambda p: p.score, reverse=True)
    out: list[str] = []
    for p in passages:
        key = p.chunk_id if by_chunk else p.doc_id
        if key not in out:
            out.append(key)
    return out


def ir_metrics(item: EvalItem, answer: Answer) -> dict[str, float | None]:
    """None for every metric when the item has no gold ids; zeros when nothing was sent."""
    gold = item.gold_ids
    if not gold:
        return dict.fromkeys(IR_METRICS)
    ranked = ranked_ids(item, answer)
    if not ranked:
        return dict.fromkeys(IR_METRICS, 0.0)
    from numba.core.errors import NumbaWarning
    from ranx import Qrels, Run, evaluate

    qrels = Qrels({"q": {_key(g): 1 for g in gold}})
    run = Run({"q": {_key(doc): float(len(ranked) - i) for i, doc in enumerate(ranked)}})
    with _LOCK, warnings.catch_warnings():
        # numba warns about an int cast while compiling ranx's kernels (harmless)
        warnings.simplefilter("ignore", NumbaWarning)
        # threads=1: numba's parallel pool costs seconds per call on a busy 2-core machine
        scores = evaluate(qrels, run, list(IR_METRICS), return_mean=False, threads=1)
    return {name: float(scores[name][0]) for name in IR_METRICS}
