"""The metrics: ranx IR figures, offline ragas with our embedder, the judge through the Gateway,
and the operational figures and run summary."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest

from evals.dataset import EvalItem
from evals.metrics.judge import JUDGE_PRINCIPAL, JudgedRagas, make_gateway_llm
from evals.metrics.operational import operational, summarize, tier_mix
from evals.metrics.ragas_offline import OfflineRagas, strip_citations
from evals.metrics.retrieval_ir import ir_metrics, ranked_ids
from gateway.hooks import NoGovernance
from gateway.ledger import MemoryLedger
from gateway.providers.base import Provider
from gateway.service import Gateway
from gateway.types import ModelRequest, ModelResponse, StreamEvent, Usage
from testkit.embedders import FakeEmbedder
from tests.evals.helpers import answer, result
from tests.graphs import rig_graph


@pytest.fixture(scope="module")
def offline() -> OfflineRagas:
    return OfflineRagas(FakeEmbedder())  # imports ragas once for the module


ITEM = EvalItem(
    id="q",
    question="What is the notice period?",
    reference="The notice period is 90 days.",
    reference_doc_ids=("d1", "d3"),
    reference_contexts=("text of d1",),
    forbidden_doc_ids=("secret",),
)


def test_ir_metrics_rank_documents_by_score() -> None:
    # d2 is best, then d1 (gold, twice: counted once), then d3 (gold)
    a = answer(docs=("d2", "d1", "d1", "d3"))
    assert ranked_ids(ITEM, a) == ["d2", "d1", "d3"]
    m = ir_metrics(ITEM, a)
    assert m["recall@1"] == 0.0 and m["recall@3"] == 1.0 and m["recall@10"] == 1.0
    assert m["mrr"] == 0.5
    dcg = 1 / 1.5849625007211563 + 1 / 2.0  # log2(3), log2(4)
    idcg = 1.0 + 1 / 1.5849625007211563
    assert m["ndcg@10"] == pytest.approx(dcg / idcg)


def test_ir_metrics_without_gold_or_passages() -> None:
    assert set(ir_metrics(EvalItem(id="x", question="q"), answer()).values()) == {None}
    assert set(ir_metrics(ITEM, answer(docs=())).values()) == {0.0}
    by_chunk = EvalItem(id="c", question="q", reference_chunk_ids=("d1#0",))
    assert ranked_ids(by_chunk, answer(docs=("d1", "d2"))) == ["d1#0", "d2#0"]
    assert ir_metrics(by_chunk, answer(docs=("d1", "d2")))["mrr"] == 1.0


def test_offline_ragas_scores(offline: OfflineRagas) -> None:
    perfect = answer(docs=("d1", "d3"), text="The notice period is 90 days. [1]")
    m = asyncio.run(offline.score(ITEM, perfect))
    assert m["context_recall"] == 1.0  # "text of d1" was sent verbatim
    assert m["id_context_recall"] == 1.0 and m["id_context_precision"] == 1.0
    assert m["rouge_l"] == 1.0 and m["string_similarity"] == 1.0  # [1] is stripped
    assert m["semantic_similarity"] == pytest.approx(1.0)
    wrong = answer(
        docs=("d9",), text="Bananas are yellow.", texts={"d9": "An unrelated passage on fruit."}
    )
    w = asyncio.run(offline.score(ITEM, wrong))
    assert w["context_recall"] == 0.0 and w["id_context_recall"] == 0.0
    assert w["rouge_l"] == 0.0 and w["semantic_similarity"] < 0.6  # only the "." is shared
    nothing = asyncio.run(offline.score(ITEM, answer(docs=())))
    assert nothing["context_recall"] == 0.0 and nothing["id_context_precision"] == 0.0
    bare = asyncio.run(offline.score(EvalItem(id="b", question="q"), perfect))
    assert set(bare.values()) == {None}  # no reference: nothing applies


def test_strip_citations() -> None:
    assert strip_citations("Ninety days [1][2], see [3, 4] and [5–6].") == "Ninety days, see and."


def test_operational_figures_and_leaks() -> None:
    a = answer(cost=0.002, latency=800, tier=1, cache_read=300, fresh=100, docs=("d1", "secret"))
    m = operational(ITEM, a)
    assert m["cost_usd"] == 0.002 and m["latency_ms"] == 800 and m["tier"] == 1.0
    assert m["cache_read_share"] == 0.75 and m["leaks"] == 1.0 and m["cited"] == 1.0
    assert operational(ITEM, answer(fresh=0))["cache_read_share"] is None


def test_summary_of_a_run() -> None:
    results = [
        result(
            "a",
            0,
            metrics={"recall@5": 1.0, "leaks": 0.0},
            cost=0.001,
            latency=100,
            cache_read=900,
            fresh=100,
            tier=0,
        ),
        result(
            "b",
            1,
            metrics={"recall@5": 0.0, "leaks": 1.0},
            cost=0.003,
            latency=300,
            fresh=1000,
            tier=1,
        ),
        result(
            "c", 2, metrics={"recall@5": None}, cost=0.002, latency=200, tier=0, confident=False
        ),
        result("d", 3, error="upstream_timeout: x"),
    ]
    s = summarize(results)
    assert s["n"] == 3 and s["error_rate"] == 0.25
    assert s["recall@5"] == 0.5  # None does not count as zero
    assert s["cost_per_answer"] == pytest.approx(0.002)
    assert s["cost_total"] == pytest.approx(0.006)
    assert s["cost_per_1k"] == pytest.approx(2.0)
    assert s["cache_read_share"] == pytest.approx(900 / 2100)
    assert s["latency_p50"] == 200 and s["tier0_share"] == pytest.approx(1 / 3)
    assert s["tier1_share"] == pytest.approx(1 / 3)  # the degraded answer counts for no tier
    assert s["degraded_share"] == pytest.approx(1 / 3) and s["leaks"] == 1.0
    assert tier_mix(results) == {
        "tier 0 (claude-haiku-4-5)": 1,
        "tier 1 (claude-haiku-4-5)": 1,
        "degraded": 1,
        "error": 1,
    }


class JudgeProvider:
    """A 'local' model that answers ragas' prompts with the JSON they expect."""

    name = "local"

    def __init__(self) -> None:
        self.prompts: list[str] = []

    @staticmethod
    def _input(prompt: str) -> dict[str, Any]:
        tail = prompt.rsplit("input:", 1)[-1]
        return json.loads(tail[: tail.rindex("}") + 1])

    def _reply(self, prompt: str) -> dict[str, Any]:
        data = self._input(prompt)
        if "judge the faithfulness" in prompt:
            ctx = data["context"].lower()
            return {
                "statements": [
                    {"statement": s, "reason": "r", "verdict": int(s.lower().rstrip(".") in ctx)}
                    for s in data["statements"]
                ]
            }
        if "Break down each sentence" in prompt:
            return {"statements": [s.strip() + "." for s in data["answer"].split(".") if s.strip()]}
        if "Generate a question for the given answer" in prompt:
            return {"question": "What is the notice period?", "noncommittal": 0}
        if "claims" in prompt.lower():
            return {"claims": [s.strip() + "." for s in data["response"].split(".") if s.strip()]}
        raise AssertionError(f"unexpected prompt: {prompt[:200]}")

    async def complete(self, request: ModelRequest) -> ModelResponse:
        prompt = request.messages[-1]["content"]
        self.prompts.append(prompt)
        return ModelResponse(
            id="r",
            provider="local",
            model_alias="local",
            model_id=request.model,
            content=[{"type": "text", "text": json.dumps(self._reply(prompt))}],
            stop_reason="end_turn",
            usage=Usage(input_tokens=len(prompt) // 4, output_tokens=20),
        )

    def stream(self, request: ModelRequest) -> AsyncIterator[StreamEvent]:
        raise NotImplementedError

    async def count_tokens(self, request: ModelRequest) -> int:
        return 1

    async def aclose(self) -> None:
        return None


def judge_gateway(provider: Provider, ledger: MemoryLedger) -> Gateway:
    """The gateway a judge route runs on, built as the app builds it: ``provider`` as the only
    (local) provider, ``ledger`` recording, no governance."""
    return rig_graph({"local": provider}, ledger=ledger, hooks=NoGovernance()).gateway


def test_judged_metrics_go_through_the_gateway_and_its_ledger() -> None:
    provider = JudgeProvider()
    ledger = MemoryLedger()
    llm = make_gateway_llm(judge_gateway(provider, ledger), "local")
    judged = JudgedRagas(llm, FakeEmbedder(), label="local")
    item = EvalItem(
        id="j",
        question="What is the notice period?",
        reference="The notice period is 90 days. Notice is written.",
    )
    a = answer(docs=("d1",), text="The notice period is 90 days [1]. Cats can fly.")
    a = a.model_copy(
        update={
            "passages": [a.passages[0].model_copy(update={"text": "The notice period is 90 days."})]
        }
    )
    m = asyncio.run(judged.score(item, a))
    assert m["faithfulness"] == 0.5  # one of the two statements is in the context
    assert m["answer_relevancy"] == pytest.approx(1.0)  # same question regenerated
    assert m["factual_correctness"] == 0.5  # precision 1/2, recall 1/2 with this judge
    assert llm.calls == len(provider.prompts) >= 5
    rows = ledger.requests()
    assert len(rows) == llm.calls
    assert {(r.source, r.user_id, r.department, r.route) for r in rows} == {
        ("eval", JUDGE_PRINCIPAL.user_id, "evals", "local")
    }
    assert all(re.search(r"output", p, re.IGNORECASE) for p in provider.prompts)


def test_a_judge_that_returns_garbage_leaves_the_metric_empty() -> None:
    class Garbage(JudgeProvider):
        def _reply(self, prompt: str) -> dict[str, Any]:
            return {"nonsense": True}

    gw = judge_gateway(Garbage(), MemoryLedger())
    judged = JudgedRagas(make_gateway_llm(gw, "local"), None, label="local")
    m = asyncio.run(judged.score(ITEM, answer(text="The notice period is 90 days.")))
    assert m == {"faithfulness": None, "answer_relevancy": None, "factual_correctness": None}
    assert judged.failures == 2  # faithfulness and factual correctness (no embedder: no relevancy)


def test_a_failed_metric_leaves_no_judge_call_running() -> None:
    """FactualCorrectness decomposes reference and response concurrently: when one fails,
    the other is cancelled (its cancellation is in the ledger), not left running."""
    cancelled: list[str] = []

    class HalfHanging(JudgeProvider):
        async def complete(self, request: ModelRequest) -> ModelResponse:
            prompt = request.messages[-1]["content"]
            if "claims" in prompt.lower() and "Notice is written" in prompt.rsplit("input:", 1)[-1]:
                try:
                    await asyncio.sleep(60)  # the reference's decomposition never returns
                except asyncio.CancelledError:
                    cancelled.append("reference")
                    raise
            if "claims" in prompt.lower():
                return ModelResponse(
                    id="r",
                    provider="local",
                    model_alias="local",
                    model_id=request.model,
                    content=[{"type": "text", "text": "not json"}],
                    stop_reason="end_turn",
                )
            return await super().complete(request)

    ledger = MemoryLedger()
    gw = judge_gateway(HalfHanging(), ledger)
    judged = JudgedRagas(make_gateway_llm(gw, "local"), None, label="local")
    item = EvalItem(
        id="j", question="q?", reference="The notice period is 90 days. Notice is written."
    )

    async def go() -> dict[str, float | None]:
        m = await asyncio.wait_for(judged.score(item, answer(text="Ninety days.")), timeout=20)
        assert asyncio.all_tasks() == {asyncio.current_task()}  # nothing left behind
        return m

    m = asyncio.run(go())
    assert m["factual_correctness"] is None and cancelled == ["reference"]
    assert any(r.outcome == "error" for r in ledger.requests())


def test_answers_are_sorted_into_answered_escalated_degraded_unreachable() -> None:
    from evals.metrics.operational import summarize
    from retrieval.answer_types import EscalationStep

    first = answer(tier=0)
    escalated = answer(tier=1).model_copy(
        update={
            "escalations": [EscalationStep(tier=0, model="x", outcome="escalated", cost_usd=0.0)]
        }
    )
    degraded = answer(confident=False)
    unreachable = answer(confident=False).model_copy(update={"degraded": "no_model_reachable"})
    answers = [(first, 1.0), (escalated, 0.0), (degraded, None), (unreachable, None)]
    results = [
        result(str(i), i, metrics={"cites_gold": g}).model_copy(update={"answer": a})
        for i, (a, g) in enumerate(answers)
    ]
    s = summarize(results)
    assert (s["answered_share"], s["escalated_share"]) == (0.25, 0.25)
    assert (s["degraded_share"], s["unreachable_share"]) == (0.25, 0.25)
    assert s["confident_precision"] == 0.5


def test_token_f1_and_gold_citations_count_for_confident_answers_only() -> None:
    from evals.dataset import EvalItem
    from evals.metrics.answer_overlap import overlap, token_f1

    assert token_f1("the notice is 90 days", "notice period: 90 days") == pytest.approx(2 / 3)
    assert token_f1("nothing alike", "at all") == 0.0
    item = EvalItem(id="q", question="q?", reference="An answer", reference_doc_ids=("d1",))
    assert overlap(item, answer(docs=("d1",))) == {"token_f1": 1.0, "cites_gold": 1.0}
    assert overlap(item, answer(docs=("d2",)))["cites_gold"] == 0.0
    assert overlap(item, answer(confident=False)) == {"token_f1": None, "cites_gold": None}
