"""Every per-question metric of a run, in one scorer the runner calls after each answer."""

from __future__ import annotations

from typing import Any

from evals.dataset import EvalItem
from evals.metrics.answer_overlap import overlap
from evals.metrics.operational import operational
from evals.metrics.retrieval_ir import ir_metrics
from retrieval.answer_types import Answer
from retrieval.embedder import TextEmbedder


class MetricScorer:
    """Retrieval (ranx), offline ragas, optional judged ragas, and operational figures.

    ``offline=False`` skips ragas (IR and operational figures only: fast, for smoke tests).
    ``judge`` is a ``JudgedRagas`` (see ``evals.metrics.judge``) or None.
    """

    def __init__(
        self, embedder: TextEmbedder | None, *, offline: bool = True, judge: Any = None
    ) -> None:
        self.offline: Any = None
        if offline:
            from evals.metrics.ragas_offline import OfflineRagas

            self.offline = OfflineRagas(embedder)
        self.judge = judge

    async def score(self, item: EvalItem, answer: Answer) -> dict[str, float | None]:
        out: dict[str, float | None] = {}
        out.update(ir_metrics(item, answer))
        out.update(overlap(item, answer))
        if self.offline is not None:
            out.update(await self.offline.score(item, answer))
        if self.judge is not None:
            out.update(await self.judge.score(item, answer))
        out.update(operational(item, answer))
        return out
