"""The answer service: question in, cited answer (or honest degradation) out.

    ask(question, principal, filters, route)
      -> response cache (exact match, per access scope, prompt and index version)
      -> reviewed answers (a reviewer approved or rewrote this question, same access scope)
      -> hybrid search, permission-filtered inside the store
      -> context: fewest chunks that answer, numbered
      -> gateway.invoke(cache-laid-out prompt, judge=AnswerJudge)   Haiku first, escalates
      -> confident: cited answer    | every tier weak: passages + "no confident answer" + review
                                    | no model reachable: passages, clearly marked

The API, the CLI and the evals all call ``AnswerService.ask``.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable

from gateway.types import InvocationResult, ModelRequest, Verdict
from governance.prompt_types import PromptSource
from kernel.errors import ProviderError
from kernel.principal import Principal
from retrieval.answer_assembly import (
    NO_CONFIDENT_ANSWER,
    NO_MODEL_REACHABLE,
    NO_SOURCES,
    confident_answer,
    degraded_answer,
)
from retrieval.answer_ports import AnswerConfig, AnswerGateway, AnswerStream, RouteInfo
from retrieval.answer_types import Answer, AskFilters, Passage
from retrieval.citations import passage_for
from retrieval.context_builder import ContextBuilder, Source
from retrieval.filters import search_filter, validate_filters
from retrieval.judge import AnswerJudge, assess
from retrieval.prefixes import PrefixBook
from retrieval.prompt_layout import Prefix, messages, system_blocks
from retrieval.response_cache import CacheKeyParts, ResponseCache
from retrieval.review import ReviewQueue
from retrieval.reviewed import ChunkSource, ReviewedAnswers, answer_key, passage_records
from retrieval.search import HybridSearcher, check_query, check_top_k

__all__ = ["AnswerConfig", "AnswerGateway", "AnswerService", "AnswerStream", "RouteInfo"]


class AnswerService:
    def __init__(
        self,
        *,
        searcher: HybridSearcher,
        gateway: AnswerGateway,
        prompts: PromptSource,
        route_info: Callable[[str | None], RouteInfo],
        index_version: Callable[[], str],
        review: ReviewQueue | None = None,
        cache: ResponseCache | None = None,
        builder: ContextBuilder | None = None,
        config: AnswerConfig | None = None,
        clock: Callable[[], float] = time.perf_counter,
        chunks: ChunkSource | None = None,
    ) -> None:
        self.searcher = searcher
        self.gateway = gateway
        self.prompts = prompts
        self.route_info = route_info
        self.index_version = index_version
        self.review = review
        self.cache = cache
        self.builder = builder or ContextBuilder()
        self.config = config or AnswerConfig()
        self.clock = clock
        self.prefixes = PrefixBook(prompts, self.config, gateway.count_tokens)
        store = getattr(searcher, "store", None)
        if chunks is None and isinstance(store, ChunkSource):
            chunks = store  # where reviewed answers' passages are checked again
        self.reviewed = ReviewedAnswers(review, chunks) if review is not None else None

    # The prompt prefix ------------------------------------------------------------------------
    def prefix(self, route: str | None = None) -> Prefix:
        """The byte-identical prefix for the active template and the route's first model."""
        return self.prefixes.prefix(self.route_info(route))

    async def ensure_prefix(self, route: str | None = None) -> Prefix:
        """The prefix, a padded one measured once against the provider's token count."""
        return await self.prefixes.ensure(self.route_info(route))

    def budget_for(self, route: str | None) -> int:
        info = self.route_info(route)
        return self.config.budgets.get(info.first_model, self.builder.config.budget_tokens)

    def build_request(
        self, sources: list[Source], question: str, route: str | None
    ) -> ModelRequest:
        info = self.route_info(route)
        return ModelRequest(
            model=info.name,
            system=system_blocks(self.prefix(route), self.config.cache_ttl),
            messages=messages(sources, question),
            max_tokens=self.config.max_output_by_model.get(
                info.first_model, self.config.max_output_tokens
            ),
            temperature=0.0,
        )

    # Search -----------------------------------------------------------------------------------
    async def search(
        self,
        query: str,
        *,
        principal: Principal,
        filters: AskFilters | None = None,
        top_k: int = 10,
    ) -> list[Passage]:
        """Passages only (``POST /v1/search``): the asker's permission filter always applies."""
        q = check_query(query)
        check_top_k(top_k)
        flt = search_filter(principal, filters)
        hits = await asyncio.to_thread(self.searcher.search, q, flt, top_k)
        sources = ContextBuilder.sources_of(hits)
        return [passage_for(s) for s in sources]

    async def retrieve(
        self, question: str, *, principal: Principal, filters: AskFilters | None, route: str | None
    ) -> list[Source]:
        flt = search_filter(principal, filters)
        hits = await asyncio.to_thread(self.searcher.search, question, flt, self.config.candidates)
        return self.builder.build(hits, self.budget_for(route))

    # Ask --------------------------------------------------------------------------------------
    def cache_parts(
        self, question: str, principal: Principal, filters: AskFilters, route: str | None
    ) -> CacheKeyParts:
        return CacheKeyParts(
            question=question,
            filters=filters,
            access_scope=principal.access_tokens(),
            prompt_digest=self.prefix(route).digest,
            index_version=self.index_version(),
            route=self.route_info(route).name,
        )

    def review_key(
        self, question: str, principal: Principal, filters: AskFilters, route: str | None
    ) -> str | None:
        """The key reviewed answers are stored and found under (``retrieval.reviewed``)."""
        if self.review is None:
            return None
        prompt = self.prefix(route).template_ref
        return answer_key(question, filters, principal.access_tokens(), prompt)

    async def from_review(
        self,
        key: str | None,
        question: str,
        principal: Principal,
        filters: AskFilters,
        request_id: str,
        started: float,
    ) -> Answer | None:
        """A reviewer's approved or rewritten answer to this question for this scope, if any."""
        if self.reviewed is None or key is None:
            return None
        found = await asyncio.to_thread(
            self.reviewed.find, key, question, principal, filters, request_id
        )
        return None if found is None else found.model_copy(update={"latency_ms": self._ms(started)})

    async def ask(
        self,
        question: str,
        *,
        principal: Principal,
        filters: AskFilters | None = None,
        route: str | None = None,
        request_id: str | None = None,
        source: str = "ask",
    ) -> Answer:
        started = self.clock()
        q = check_query(question)
        f = validate_filters(filters)
        rid = request_id or uuid.uuid4().hex
        await self.ensure_prefix(route)
        parts = self.cache_parts(q, principal, f, route) if self.cache is not None else None
        if self.cache is not None and parts is not None:
            hit = await asyncio.to_thread(self.cache.get, parts)
            if hit is not None:
                return self.from_cache(hit, rid, started)
        key = self.review_key(q, principal, f, route)
        reviewed = await self.from_review(key, q, principal, f, rid, started)
        if reviewed is not None:
            return reviewed

        sources = await self.retrieve(q, principal=principal, filters=f, route=route)
        if not sources:
            return await self.no_sources(q, principal, rid, route, started, key)
        return await self.answer_from(
            q,
            sources,
            principal=principal,
            route=route,
            request_id=rid,
            source=source,
            cache_parts=parts,
            started=started,
            review_key=key,
        )

    async def no_sources(
        self,
        question: str,
        principal: Principal,
        request_id: str,
        route: str | None,
        started: float,
        review_key: str | None = None,
    ) -> Answer:
        """Nothing the asker may read matches: no model call, queued for review."""
        prefix = self.prefix(route)
        review_id = await self._enqueue(
            question, "", "no_sources", [], principal, request_id, prefix, None, review_key
        )
        return degraded_answer(
            question,
            [],
            kind="no_confident_answer",
            header=NO_SOURCES,
            request_id=request_id,
            prompt_version=prefix.template_ref,
            latency_ms=self._ms(started),
            review_id=review_id,
        )

    async def answer_from(
        self,
        question: str,
        sources: list[Source],
        *,
        principal: Principal,
        route: str | None,
        request_id: str,
        source: str,
        cache_parts: CacheKeyParts | None,
        started: float,
        review_key: str | None = None,
        start_tier: int = 0,
    ) -> Answer:
        """The model's answer over ``sources`` through the gateway (escalating from
        ``start_tier``), or degraded."""
        prefix = self.prefix(route)
        request = self.build_request(sources, question, route)
        try:
            result = await self.gateway.invoke(
                request,
                principal=principal,
                route=self.route_info(route).name,
                judge=AnswerJudge(len(sources)),
                prompt_version=prefix.template_ref,
                source=source,
                request_id=request_id,
                start_tier=start_tier,
            )
        except ProviderError:
            # Every provider of every tier failed (or its circuit is open): passages only.
            return self.unreachable(question, sources, request_id, route, started)
        return await self.conclude(
            question,
            sources,
            result,
            principal=principal,
            route=route,
            cache_parts=cache_parts,
            started=started,
            review_key=review_key,
        )

    def unreachable(
        self,
        question: str,
        sources: list[Source],
        request_id: str,
        route: str | None,
        started: float,
    ) -> Answer:
        return degraded_answer(
            question,
            sources,
            kind="no_model_reachable",
            header=NO_MODEL_REACHABLE,
            request_id=request_id,
            prompt_version=self.prefix(route).template_ref,
            latency_ms=self._ms(started),
        )

    async def conclude(
        self,
        question: str,
        sources: list[Source],
        result: InvocationResult,
        *,
        principal: Principal,
        route: str | None,
        cache_parts: CacheKeyParts | None,
        started: float,
        verdict: Verdict | None = None,
        review_key: str | None = None,
    ) -> Answer:
        """A confident, cited answer (cached), or passages + review when the verdict is weak."""
        verdict = (
            verdict
            or result.final_verdict
            or assess(result.response.text, len(sources), result.response.stop_reason)
        )
        if verdict.ok:
            answer = confident_answer(question, sources, result, self._ms(started))
            if self.cache is not None and cache_parts is not None:
                await asyncio.to_thread(self.cache.put, cache_parts, answer)
            return answer
        prefix = self.prefix(route)
        review_id = await self._enqueue(
            question,
            result.response.text,
            f"no_confident_answer: {verdict.reason}",
            sources,
            principal,
            result.request_id,
            prefix,
            result.response.model_alias,
            review_key,
        )
        return degraded_answer(
            question,
            sources,
            kind="no_confident_answer",
            header=NO_CONFIDENT_ANSWER,
            request_id=result.request_id,
            prompt_version=prefix.template_ref,
            latency_ms=self._ms(started),
            result=result,
            review_id=review_id,
        )

    # Helpers ----------------------------------------------------------------------------------
    def _ms(self, started: float) -> float:
        return round((self.clock() - started) * 1000, 2)

    def from_cache(self, cached: Answer, request_id: str, started: float) -> Answer:
        return cached.model_copy(
            update={
                "cached": True,
                "request_id": request_id,
                "cost_usd": 0.0,
                "tokens": type(cached.tokens)(),
                "escalations": [],
                "latency_ms": self._ms(started),
            }
        )

    async def _enqueue(
        self,
        question: str,
        draft: str,
        reason: str,
        sources: list[Source],
        principal: Principal,
        request_id: str,
        prefix: Prefix,
        model: str | None,
        key: str | None,
    ) -> str | None:
        if self.review is None:
            return None
        passages = passage_records(sources)
        return await asyncio.to_thread(
            lambda: self.review.enqueue(  # type: ignore[union-attr]
                question=question,
                draft_answer=draft,
                reason=reason,
                passages=passages,
                asker_user_id=principal.user_id,
                asker_department=principal.department,
                request_id=request_id,
                prompt_version=prefix.template_ref,
                model=model,
                answer_key=key,
            )
        )
