"""A deterministic answer service that needs no model, for evals without one.

``StubAnswerService`` answers the questions of a dataset the way a RAG service would: it sends
some passages (the gold ones with probability ``quality``, plus distractors), answers with the
reference when it "found" the gold passage and with a vaguer sentence otherwise, and reports
tiers, tokens, cost and latency. Everything is derived from a hash of the question and ``seed``,
so the same inputs give the same answers (tests and the overview notebook rely on it).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from typing import Any

from evals.dataset import EvalItem
from retrieval.answer_types import Answer, Citation, EscalationStep, Passage, TokenCounts

HAIKU_PRICE = (1.0, 5.0, 0.1)  # $/MTok input, output, cache read
SONNET_PRICE = (3.0, 15.0, 0.3)


def _u(*parts: object) -> float:
    """A uniform number in [0, 1) from the parts (stable across runs and machines)."""
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


class StubAnswerService:
    def __init__(
        self,
        items: Sequence[EvalItem],
        *,
        quality: float = 0.8,
        seed: int = 0,
        escalation_rate: float = 0.2,
        cache_hit_rate: float = 0.7,
        delay_s: float = 0.0,
        prompt_version: str = "answer-v1",
        fail_ids: Sequence[str] = (),
    ) -> None:
        self.by_question = {i.question: i for i in items}
        self.docs = sorted(
            {d for i in items for d in i.gold_ids} | {"distractor-a", "distractor-b"}
        )
        self.quality = quality
        self.seed = seed
        self.escalation_rate = escalation_rate
        self.cache_hit_rate = cache_hit_rate
        self.delay_s = delay_s
        self.prompt_version = prompt_version
        self.fail_ids = set(fail_ids)
        self.calls: list[str] = []

    def _passage(self, doc_id: str, score: float, text: str) -> Passage:
        return Passage(
            chunk_id=f"{doc_id}#0",
            doc_id=doc_id,
            title=doc_id.rsplit("/", 1)[-1],
            section="",
            source=doc_id,
            doc_type="doc",
            score=score,
            text=text,
        )

    async def ask(
        self, question: str, *, principal: Any, filters: Any = None, route: Any = None
    ) -> Answer:
        self.calls.append(question)
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        item = self.by_question.get(question)
        if item is None:
            raise KeyError(f"the stub knows no question {question!r}")
        if item.id in self.fail_ids:
            from kernel.errors import ProviderConnectionError

            raise ProviderConnectionError("stub: upstream unreachable", provider="stub")
        key = (self.seed, item.id)
        found = _u(*key, "found") < self.quality
        passages = []
        gold_text = item.reference_contexts[0] if item.reference_contexts else item.reference
        if found and item.gold_ids:
            passages.append(self._passage(item.gold_ids[0], 0.9, gold_text or item.question))
        others = [d for d in self.docs if d not in item.gold_ids]
        for n in range(3):
            doc = others[int(_u(*key, "other", n) * len(others))]
            passages.append(self._passage(doc, 0.5 - n / 10, f"Unrelated text about {doc}."))
        escalated = _u(*key, "escalate") < self.escalation_rate
        tier = 1 if escalated else 0
        price = SONNET_PRICE if escalated else HAIKU_PRICE
        cached = 4096 if _u(*key, "cache") < self.cache_hit_rate else 0
        fresh, out = 300 + int(_u(*key, "in") * 900), 40 + int(_u(*key, "out") * 160)
        cost = (fresh * price[0] + out * price[1] + cached * price[2]) / 1e6
        steps = []
        if escalated:
            steps.append(
                EscalationStep(
                    tier=0,
                    model="claude-haiku-4-5",
                    outcome="escalated",
                    reason="no_citation",
                    cost_usd=cost * 0.2,
                )
            )
        text = (
            f"{item.reference} [1]"
            if found and item.reference
            else "The sources do not say this clearly."
        )
        citations = (
            [
                Citation(
                    n=1,
                    chunk_id=passages[0].chunk_id,
                    doc_id=passages[0].doc_id,
                    title=passages[0].title,
                    section="",
                    source=passages[0].source,
                    score=passages[0].score,
                )
            ]
            if found
            else []
        )
        return Answer(
            question=question,
            answer=text,
            citations=citations,
            confident=found,
            degraded=None if found else "no_confident_answer",
            passages=passages,
            tier=tier,
            model="claude-sonnet-4-6" if escalated else "claude-haiku-4-5",
            escalations=steps,
            tokens=TokenCounts(
                input=fresh, output=out, cache_read=cached, cache_write=0 if cached else 4096
            ),
            cost_usd=cost * (1.2 if escalated else 1.0),
            latency_ms=400 + 1600 * _u(*key, "lat") + (900 if escalated else 0),
            prompt_version=self.prompt_version,
            request_id=f"stub-{item.id}",
        )


class FixedScorer:
    """A scorer with no model and no ragas: IR metrics (ranx) and operational figures only."""

    async def score(self, item: EvalItem, answer: Answer) -> dict[str, float | None]:
        from evals.metrics.operational import operational
        from evals.metrics.retrieval_ir import ir_metrics

        return {**ir_metrics(item, answer), **operational(item, answer)}
