"""ragas 0.4 metrics that need no LLM judge, scored per question.

- context_recall:       NonLLMContextRecall (gold passage texts vs the passages sent)
- context_precision:    NonLLMContextPrecisionWithReference
- id_context_recall:    IDBasedContextRecall (gold ids vs the ids sent)
- id_context_precision: IDBasedContextPrecision
- rouge_l:              RougeScore (ROUGE-L F1 of the answer vs the reference answer)
- string_similarity:    NonLLMStringSimilarity (normalised Levenshtein)
- semantic_similarity:  SemanticSimilarity with OUR embedder (never a default OpenAI one)

The legacy classes are imported from their modules, not from ``ragas.metrics`` (whose
``__getattr__`` warns on every access). Citation markers like ``[2]`` are removed from the
answer before it is compared with the reference answer.
"""

from __future__ import annotations

import os
import re
from typing import Any

from evals.dataset import EvalItem
from evals.metrics.retrieval_ir import ranked_ids
from retrieval.answer_types import Answer
from retrieval.embedder import TextEmbedder

_CITATION = re.compile(r"\s?\[\d+(?:\s*[,–-]\s*\d+)*\]")

OFFLINE_METRICS = (
    "context_recall",
    "context_precision",
    "id_context_recall",
    "id_context_precision",
    "rouge_l",
    "string_similarity",
    "semantic_similarity",
)


def strip_citations(text: str) -> str:
    return _CITATION.sub("", text).strip()


def _import_ragas() -> None:
    """Import ragas quietly: telemetry off, and its user-id file read once, warnings muted.

    ragas sends usage telemetry unless told not to (loregate.offline sets the variable too).
    Every scored sample builds an analytics event whose user id ragas reads from a file it
    leaves open (a ResourceWarning); the id is cached after the first read, so that read is
    done here, once, with the warning muted.
    """
    os.environ.setdefault("RAGAS_DO_NOT_TRACK", "true")
    import warnings

    from ragas import _analytics

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        _analytics.get_userid()


class OfflineRagas:
    """Builds the metric objects once (importing ragas, a few seconds) and scores answers."""

    def __init__(self, embedder: TextEmbedder | None) -> None:
        _import_ragas()
        from ragas.metrics._answer_similarity import SemanticSimilarity
        from ragas.metrics._context_precision import (
            IDBasedContextPrecision,
            NonLLMContextPrecisionWithReference,
        )
        from ragas.metrics._context_recall import IDBasedContextRecall, NonLLMContextRecall
        from ragas.metrics._rouge_score import RougeScore
        from ragas.metrics._string import NonLLMStringSimilarity

        from evals.metrics.ragas_embeddings import make_ragas_embeddings

        self.context_recall = NonLLMContextRecall()
        self.context_precision = NonLLMContextPrecisionWithReference()
        self.id_recall = IDBasedContextRecall()
        self.id_precision = IDBasedContextPrecision()
        self.rouge = RougeScore(rouge_type="rougeL", mode="fmeasure")
        self.string_similarity = NonLLMStringSimilarity()
        self.embeddings = make_ragas_embeddings(embedder) if embedder else None
        self.semantic = SemanticSimilarity(embeddings=self.embeddings) if embedder else None

    @staticmethod
    def _sample(**kwargs: Any) -> Any:
        from ragas.dataset_schema import SingleTurnSample

        return SingleTurnSample(**kwargs)

    async def score(self, item: EvalItem, answer: Answer) -> dict[str, float | None]:
        out: dict[str, float | None] = dict.fromkeys(OFFLINE_METRICS)
        retrieved = [p.text for p in sorted(answer.passages, key=lambda p: -p.score)]
        if item.reference_contexts:
            if retrieved:
                s = self._sample(
                    retrieved_contexts=retrieved, reference_contexts=list(item.reference_contexts)
                )
                out["context_recall"] = _num(await self.context_recall.single_turn_ascore(s))
                out["context_precision"] = _num(await self.context_precision.single_turn_ascore(s))
            else:
                out["context_recall"] = out["context_precision"] = 0.0
        if item.gold_ids:
            ids = ranked_ids(item, answer)
            if ids:
                s = self._sample(
                    retrieved_context_ids=ids, reference_context_ids=list(item.gold_ids)
                )
                out["id_context_recall"] = _num(await self.id_recall.single_turn_ascore(s))
                out["id_context_precision"] = _num(await self.id_precision.single_turn_ascore(s))
            else:
                out["id_context_recall"] = out["id_context_precision"] = 0.0
        if item.reference:
            response = strip_citations(answer.answer) or " "
            s = self._sample(response=response, reference=item.reference)
            out["rouge_l"] = _num(await self.rouge.single_turn_ascore(s))
            out["string_similarity"] = _num(await self.string_similarity.single_turn_ascore(s))
            if self.semantic is not None and self.embeddings is not None:
                await self.embeddings.prime([item.reference, response])
                out["semantic_similarity"] = _num(await self.semantic.single_turn_ascore(s))
        return out


def _num(value: Any) -> float | None:
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return None if f != f else f  # NaN -> None
