"""LLM-judged ragas metrics, with the judge's calls going through loregate's own Gateway.

``make_gateway_llm`` is a ragas ``BaseRagasLLM`` whose every generation is one
``Gateway.invoke`` on the judge route: budgeted, rate-limited and written to the ledger like any
other call (source ``eval``, principal ``JUDGE_PRINCIPAL``, department ``evals``).

Metrics: Faithfulness, ResponseRelevancy (the judge plus our embedder) and FactualCorrectness.
Every metric object gets the judge explicitly: a ragas metric without an LLM would otherwise fall
back to OpenAI. A judge answer ragas cannot parse leaves that metric empty for the question
(a small local judge often fails to produce the JSON ragas expects).
"""

from __future__ import annotations

import asyncio
import logging
from contextvars import ContextVar
from typing import Any, Protocol

from evals.dataset import EvalItem
from evals.metrics.ragas_offline import _import_ragas, _num, strip_citations
from gateway.types import InvocationResult, ModelRequest
from kernel.principal import Principal, Role
from retrieval.answer_types import Answer
from retrieval.embedder import TextEmbedder

log = logging.getLogger("evals.judge")

# The judge calls made on behalf of one metric evaluation. ragas runs some steps with
# ``asyncio.gather``; when one fails, its siblings keep running after the metric has given up
# (and would outlive the run). Tasks inherit this context, so each call registers its task here
# and ``JudgedRagas._safe`` cancels what is left when the metric ends.
_CALLS: ContextVar[set[asyncio.Task[Any]] | None] = ContextVar("judge_calls", default=None)

JUDGED_METRICS = ("faithfulness", "answer_relevancy", "factual_correctness")
JUDGE_PRINCIPAL = Principal(
    user_id="eval-judge", department="evals", project="evals", role=Role.EVALUATOR
)


class InvokesModels(Protocol):
    """The part of ``gateway.service.Gateway`` the judge needs."""

    async def invoke(
        self,
        request: ModelRequest,
        *,
        principal: Principal,
        route: str | None = None,
        source: str = ...,
    ) -> InvocationResult: ...


def make_gateway_llm(
    gateway: InvokesModels,
    route: str,
    *,
    principal: Principal = JUDGE_PRINCIPAL,
    max_tokens: int = 600,
) -> Any:
    """A ragas LLM whose generations are ``gateway.invoke`` calls on ``route``."""
    _import_ragas()
    from langchain_core.outputs import Generation, LLMResult
    from ragas.llms.base import BaseRagasLLM
    from ragas.run_config import RunConfig

    class GatewayRagasLLM(BaseRagasLLM):  # type: ignore[misc]
        def __init__(self) -> None:
            # The gateway already retries; ragas' own retry (10 attempts, waits up to 60 s)
            # would multiply a failing judge's calls.
            super().__init__(run_config=RunConfig(max_retries=1, max_wait=1))
            self.gateway = gateway
            self.route = route
            self.principal = principal
            self.max_tokens = max_tokens
            self.calls = 0
            self.cost_usd = 0.0

        async def _one(
            self, text: str, temperature: float | None, stop: list[str] | None
        ) -> Generation:
            calls = _CALLS.get()
            task = asyncio.current_task()
            if calls is not None and task is not None:
                calls.add(task)
            request = ModelRequest(
                model=self.route,
                messages=[{"role": "user", "content": text}],
                max_tokens=self.max_tokens,
                temperature=temperature,
                stop_sequences=stop or None,
            )
            result = await self.gateway.invoke(
                request, principal=self.principal, route=self.route, source="eval"
            )
            self.calls += 1
            self.cost_usd += result.cost_usd
            return Generation(
                text=result.response.text,
                generation_info={"finish_reason": result.response.stop_reason or "end_turn"},
            )

        async def agenerate_text(
            self,
            prompt: Any,
            n: int = 1,
            temperature: float | None = 0.01,
            stop: list[str] | None = None,
            callbacks: Any = None,
        ) -> LLMResult:
            text = prompt.to_string()
            if n == 1:
                return LLMResult(generations=[[await self._one(text, temperature, stop)]])
            try:  # a failed generation cancels its siblings: no call outlives the metric
                async with asyncio.TaskGroup() as group:
                    tasks = [
                        group.create_task(self._one(text, temperature, stop)) for _ in range(n)
                    ]
            except ExceptionGroup as eg:
                raise eg.exceptions[0] from eg
            return LLMResult(generations=[[t.result() for t in tasks]])

        def generate_text(
            self,
            prompt: Any,
            n: int = 1,
            temperature: float = 0.01,
            stop: list[str] | None = None,
            callbacks: Any = None,
        ) -> LLMResult:
            return asyncio.run(self.agenerate_text(prompt, n, temperature, stop, callbacks))

        def is_finished(self, response: LLMResult) -> bool:
            return all(
                (g.generation_info or {}).get("finish_reason") != "max_tokens"
                for gens in response.generations
                for g in gens
            )

    return GatewayRagasLLM()


class JudgedRagas:
    """Faithfulness, ResponseRelevancy and FactualCorrectness with an explicit judge LLM."""

    def __init__(self, llm: Any, embedder: TextEmbedder | None, *, label: str) -> None:
        _import_ragas()
        from ragas.metrics._answer_relevance import ResponseRelevancy
        from ragas.metrics._factual_correctness import FactualCorrectness
        from ragas.metrics._faithfulness import Faithfulness

        from evals.metrics.ragas_embeddings import make_ragas_embeddings

        self.label = label
        self.llm = llm
        self.failures = 0  # judged scores the judge could not produce (unparseable, errors)
        self.faithfulness = Faithfulness(llm=llm)
        self.factual = FactualCorrectness(llm=llm)
        self.relevancy = (
            ResponseRelevancy(llm=llm, embeddings=make_ragas_embeddings(embedder), strictness=1)
            if embedder is not None
            else None
        )

    async def _safe(self, name: str, metric: Any, sample: Any) -> float | None:
        calls: set[asyncio.Task[Any]] = set()
        token = _CALLS.set(calls)
        try:
            return _num(await metric.single_turn_ascore(sample))
        except Exception as exc:  # a judge that cannot follow ragas' JSON format, a 5xx...
            self.failures += 1
            log.info("judge metric %s failed: %s: %s", name, type(exc).__name__, exc)
            return None
        finally:
            _CALLS.reset(token)
            await _cancel_leftovers(calls)

    async def score(self, item: EvalItem, answer: Answer) -> dict[str, float | None]:
        from ragas.dataset_schema import SingleTurnSample

        out: dict[str, float | None] = dict.fromkeys(JUDGED_METRICS)
        response = strip_citations(answer.answer)
        if not response or not answer.confident:
            return out
        contexts = [p.text for p in answer.passages]
        if contexts:
            s = SingleTurnSample(
                user_input=item.question, response=response, retrieved_contexts=contexts
            )
            out["faithfulness"] = await self._safe("faithfulness", self.faithfulness, s)
        if self.relevancy is not None:
            s = SingleTurnSample(user_input=item.question, response=response)
            out["answer_relevancy"] = await self._safe("answer_relevancy", self.relevancy, s)
        if item.reference:
            s = SingleTurnSample(response=response, reference=item.reference)
            out["factual_correctness"] = await self._safe("factual_correctness", self.factual, s)
        return out


async def _cancel_leftovers(calls: set[asyncio.Task[Any]]) -> None:
    current = asyncio.current_task()
    pending = [t for t in calls if t is not current and not t.done()]
    for t in pending:
        t.cancel()
    if pending:
        await asyncio.gather(*pending, return_exceptions=True)
