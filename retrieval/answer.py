"""The answer service: question in, cited answer (or honest degradation) out.

One pipeline serves every ask, streamed or not (``events``; ``ask`` consumes it to the end):

    context: route facts, prompt template, prefix, cache key and review key, built once
      -> response cache (exact match, per access scope, prompt and index version)
      -> reviewed answers (a reviewer approved or rewrote this question, same access scope)
      -> hybrid search, permission-filtered inside the store
      -> context: fewest chunks that answer, numbered
      -> gateway (cache-laid-out prompt, judge=AnswerJudge): Haiku first; a weak answer
         escalates, streams included (the gateway retracts the weak tier's text)
      -> confident: cited answer    | every tier weak: passages + "no confident answer" + review
                                    | no model reachable: passages, clearly marked

A stream that breaks on the route's last tier is retracted and asked again without streaming
(request id ``<id>-retried``). The API, the CLI and the evals all call this service.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from functools import partial

from gateway.types import InvocationResult, ModelRequest, StreamEvent
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
from retrieval.answer_ports import AnswerConfig, AnswerGateway, LedgerRows
from retrieval.answer_types import Answer, AskFilters, Passage
from retrieval.ask_context import AskContext, AskRequest, build_context
from retrieval.ask_events import AskEvent, Delta, Final, Retract
from retrieval.citations import passage_for
from retrieval.context_builder import ContextBuilder, Source
from retrieval.filters import search_filter
from retrieval.judge import AnswerJudge
from retrieval.known_answers import KnownAnswers
from retrieval.prefixes import PrefixBook
from retrieval.prompt_layout import PROMPT_ID, Prefix, messages, system_blocks
from retrieval.response_cache import ResponseCache
from retrieval.review import ReviewQueue
from retrieval.reviewed import ChunkSource, ReviewedAnswers, passage_records
from retrieval.route_facts import RouteFacts, RouteFactsBook
from retrieval.search import HybridSearcher, check_query, check_top_k

__all__ = ["AnswerConfig", "AnswerGateway", "AnswerService"]


class AnswerService:
    def __init__(
        self,
        *,
        searcher: HybridSearcher,
        gateway: AnswerGateway,
        prompts: PromptSource,
        index_version: Callable[[], str],
        review: ReviewQueue | None = None,
        cache: ResponseCache | None = None,
        builder: ContextBuilder | None = None,
        config: AnswerConfig | None = None,
        clock: Callable[[], float] = time.perf_counter,
        chunks: ChunkSource | None = None,
        ledger: LedgerRows | None = None,
    ) -> None:
        self.searcher = searcher
        self.gateway = gateway
        self.prompts = prompts
        self.index_version = index_version
        self.review = review
        self.cache = cache
        self.builder = builder or ContextBuilder()
        self.config = config or AnswerConfig()
        self.clock = clock
        self.routes = RouteFactsBook(gateway.catalogue)
        self.prefixes = PrefixBook(prompts, self.config, gateway.count_tokens)
        store = getattr(searcher, "store", None)
        if chunks is None and isinstance(store, ChunkSource):
            chunks = store  # where reviewed answers' passages are checked again
        self.reviewed = ReviewedAnswers(review, chunks) if review is not None else None
        self.known = KnownAnswers(cache, self.reviewed, ledger)

    # Passages ---------------------------------------------------------------------------------
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
        return [passage_for(s) for s in ContextBuilder.sources_of(hits)]

    async def retrieve(
        self, question: str, *, principal: Principal, filters: AskFilters | None, route: str | None
    ) -> list[Source]:
        """The numbered sources an ask of ``question`` on ``route`` would send."""
        return await self._sources(question, principal, filters, self.routes.facts(route))

    async def prefix(self, route: str | None = None) -> Prefix:
        """The byte-identical prompt prefix of the active template for ``route``."""
        template = await asyncio.to_thread(self.prompts.active, PROMPT_ID)
        return await self.prefixes.ensure(template, self.routes.facts(route))

    # Asking -----------------------------------------------------------------------------------
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
        """The answer, in one piece (no model stream)."""
        async for event in self.events(
            question,
            principal=principal,
            filters=filters,
            route=route,
            request_id=request_id,
            source=source,
            stream=False,
        ):
            if isinstance(event, Final):
                return event.answer
        raise AssertionError("unreachable: every ask ends with a Final event")

    def ask_stream(
        self,
        question: str,
        *,
        principal: Principal,
        filters: AskFilters | None = None,
        route: str | None = None,
        request_id: str | None = None,
        source: str = "ask",
    ) -> AsyncIterator[AskEvent]:
        """``Delta`` events as the answer is written, ``Retract`` when a tier's text is
        withdrawn, then the ``Final`` answer."""
        return self.events(
            question,
            principal=principal,
            filters=filters,
            route=route,
            request_id=request_id,
            source=source,
            stream=True,
        )

    async def events(
        self,
        question: str,
        *,
        principal: Principal,
        filters: AskFilters | None,
        route: str | None,
        request_id: str | None,
        source: str,
        stream: bool,
    ) -> AsyncIterator[AskEvent]:
        ctx = await self._context(question, principal, filters, route, request_id, source)
        known = await self.known.find(ctx, partial(self._ms, ctx))
        if known is not None:
            if stream:
                yield Delta(known.answer)
            yield Final(known)
            return
        sources = await self._sources(ctx.question, principal, ctx.filters, ctx.route)
        if not sources:
            yield Final(await self._no_sources(ctx))
            return
        request = self._request(ctx, sources)
        if not stream:
            yield Final(await self._invoke(ctx, sources, request, ctx.request_id))
            return
        gstream = self.gateway.stream(
            request,
            principal=principal,
            route=ctx.route.name,
            judge=AnswerJudge(len(sources)),
            prompt_version=ctx.prefix.template_ref,
            source=source,
            request_id=ctx.request_id,
        )
        shown = False
        try:
            async for event in gstream:
                if event.type == "retract":
                    shown = False
                    yield Retract(str(event.data.get("reason", "weak answer")))
                elif text := _text_delta(event):
                    shown = True
                    yield Delta(text)
        except ProviderError as exc:
            if not shown:
                yield Final(self._unreachable(ctx, sources))
                return
            yield Retract(f"stream interrupted: {exc.code}")
            yield Final(await self._invoke(ctx, sources, request, ctx.request_id + "-retried"))
            return
        if gstream.result is None:  # pragma: no cover - the gateway sets it when the stream ends
            yield Final(self._unreachable(ctx, sources))
            return
        yield Final(await self._conclude(ctx, sources, gstream.result))

    # The steps --------------------------------------------------------------------------------
    async def _context(
        self,
        question: str,
        principal: Principal,
        filters: AskFilters | None,
        route: str | None,
        request_id: str | None,
        source: str,
    ) -> AskContext:
        return await build_context(
            AskRequest(question, principal, filters, route, request_id, source, self.clock()),
            routes=self.routes,
            prefixes=self.prefixes,
            prompts=self.prompts,
            index_version=self.index_version if self.cache is not None else None,
            review_keys=self.review is not None,
        )

    async def _sources(
        self,
        question: str,
        principal: Principal,
        filters: AskFilters | None,
        route: RouteFacts,
    ) -> list[Source]:
        flt = search_filter(principal, filters)
        hits = await asyncio.to_thread(self.searcher.search, question, flt, self.config.candidates)
        budget = self.config.budgets.get(route.first_model, self.builder.config.budget_tokens)
        return self.builder.build(hits, budget)

    def _request(self, ctx: AskContext, sources: list[Source]) -> ModelRequest:
        cfg = self.config
        return ModelRequest(
            model=ctx.route.name,
            system=system_blocks(ctx.prefix, cfg.cache_ttl),
            messages=messages(sources, ctx.question),
            max_tokens=cfg.max_output_by_model.get(ctx.route.first_model, cfg.max_output_tokens),
            temperature=0.0,
        )

    async def _invoke(
        self, ctx: AskContext, sources: list[Source], request: ModelRequest, request_id: str
    ) -> Answer:
        try:
            result = await self.gateway.invoke(
                request,
                principal=ctx.principal,
                route=ctx.route.name,
                judge=AnswerJudge(len(sources)),
                prompt_version=ctx.prefix.template_ref,
                source=ctx.source,
                request_id=request_id,
            )
        except ProviderError:
            # Every provider of every tier failed (or its circuit is open): passages only.
            return self._unreachable(ctx, sources)
        return await self._conclude(ctx, sources, result)

    async def _conclude(
        self, ctx: AskContext, sources: list[Source], result: InvocationResult
    ) -> Answer:
        """A confident, cited answer (cached), or passages + review when the verdict is weak."""
        verdict = result.final_verdict or AnswerJudge(len(sources))(result.response)
        if verdict.ok:
            answer = confident_answer(ctx.question, sources, result, self._ms(ctx))
            if self.cache is not None and ctx.cache_key is not None:
                await asyncio.to_thread(self.cache.put, ctx.cache_key, answer)
            return answer
        review_id = await self._enqueue(
            ctx,
            result.response.text,
            f"no_confident_answer: {verdict.reason}",
            sources,
            result.request_id,
            result.response.model_alias,
        )
        return degraded_answer(
            ctx.question,
            sources,
            kind="no_confident_answer",
            header=NO_CONFIDENT_ANSWER,
            request_id=result.request_id,
            prompt_version=ctx.prefix.template_ref,
            latency_ms=self._ms(ctx),
            result=result,
            review_id=review_id,
        )

    async def _no_sources(self, ctx: AskContext) -> Answer:
        """Nothing the asker may read matches: no model call, queued for review."""
        review_id = await self._enqueue(ctx, "", "no_sources", [], ctx.request_id, None)
        return degraded_answer(
            ctx.question,
            [],
            kind="no_confident_answer",
            header=NO_SOURCES,
            request_id=ctx.request_id,
            prompt_version=ctx.prefix.template_ref,
            latency_ms=self._ms(ctx),
            review_id=review_id,
        )

    def _unreachable(self, ctx: AskContext, sources: list[Source]) -> Answer:
        return degraded_answer(
            ctx.question,
            sources,
            kind="no_model_reachable",
            header=NO_MODEL_REACHABLE,
            request_id=ctx.request_id,
            prompt_version=ctx.prefix.template_ref,
            latency_ms=self._ms(ctx),
        )

    async def _enqueue(
        self,
        ctx: AskContext,
        draft: str,
        reason: str,
        sources: list[Source],
        request_id: str,
        model: str | None,
    ) -> str | None:
        review = self.review
        if review is None:
            return None
        passages = passage_records(sources)
        return await asyncio.to_thread(
            lambda: review.enqueue(
                question=ctx.question,
                draft_answer=draft,
                reason=reason,
                passages=passages,
                asker_user_id=ctx.principal.user_id,
                asker_department=ctx.principal.department,
                request_id=request_id,
                prompt_version=ctx.prefix.template_ref,
                model=model,
                answer_key=ctx.review_key,
            )
        )

    def _ms(self, ctx: AskContext) -> float:
        return round((self.clock() - ctx.started) * 1000, 2)


def _text_delta(event: StreamEvent) -> str:
    if event.type != "content_block_delta":
        return ""
    delta = event.data.get("delta")
    if isinstance(delta, dict) and delta.get("type") == "text_delta":
        return str(delta.get("text", ""))
    return ""
