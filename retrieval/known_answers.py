"""Answers known without a model call: the response cache, then a reviewer's answer.

A response-cache hit is written on the ledger (kind ``cache_hit``): nothing is charged, and
what the answer cost when it was made is what the hit saved (billing's savings read it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

from gateway.ledger.rows import cache_hit_row
from retrieval.answer_ports import LedgerRows
from retrieval.answer_types import Answer, TokenCounts
from retrieval.ask_context import AskContext
from retrieval.response_cache import ResponseCache
from retrieval.reviewed import ReviewedAnswers

NANO = 1_000_000_000


class KnownAnswers:
    def __init__(
        self,
        cache: ResponseCache | None,
        reviewed: ReviewedAnswers | None,
        ledger: LedgerRows | None = None,
    ) -> None:
        self.cache = cache
        self.reviewed = reviewed
        self.ledger = ledger

    async def find(self, ctx: AskContext, elapsed_ms: Callable[[], float]) -> Answer | None:
        """A cached answer, else a reviewer's answer to this question for this scope."""
        if self.cache is not None and ctx.cache_key is not None:
            hit = await asyncio.to_thread(self.cache.get, ctx.cache_key)
            if hit is not None:
                ms = elapsed_ms()
                self._record_hit(ctx, hit, ms)
                return hit.model_copy(
                    update={
                        "cached": True,
                        "request_id": ctx.request_id,
                        "cost_usd": 0.0,
                        "tokens": TokenCounts(),
                        "escalations": [],
                        "latency_ms": ms,
                    }
                )
        if self.reviewed is None or ctx.review_key is None:
            return None
        found = await asyncio.to_thread(
            self.reviewed.find,
            ctx.review_key,
            ctx.question,
            ctx.principal,
            ctx.filters,
            ctx.request_id,
        )
        return None if found is None else found.model_copy(update={"latency_ms": elapsed_ms()})

    def _record_hit(self, ctx: AskContext, hit: Answer, ms: float) -> None:
        if self.ledger is None:
            return
        row = cache_hit_row(
            request_id=ctx.request_id,
            at=datetime.now(UTC),
            principal=ctx.principal,
            source=ctx.source,
            route=ctx.route.name,
            model=hit.model or "",
            saved_nano_usd=round(hit.cost_usd * NANO),  # the cost was nano-USD / 1e9: exact
            latency_ms=ms,
        )
        self.ledger.write([row])
