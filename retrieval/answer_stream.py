"""``POST /v1/ask`` with ``"stream": true``: the first tier's answer streamed as it is written.

The gateway does not judge streams (the bytes are already with the caller), so the answer
service judges the streamed answer when it ends:

- good: a final ``answer`` event with the citations, tokens and cost;
- weak, and the route has more tiers: a ``retract`` event (the client discards the text it
  showed), then the question goes through ``AnswerService.answer_from``: the whole route with
  the judge, escalating as in the non-streamed path. The route's first tier is asked again
  there (its prefix is then a cache read); the cost of the streamed attempt is added to the
  final answer;
- weak on a one-tier route: degraded (passages, "no confident answer", review queue).

Events: ``delta`` {"text"} · ``retract`` {"reason"} · ``answer`` {the Answer}.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

from gateway.errors import ProviderError
from gateway.principal import Principal
from retrieval.answer import AnswerService
from retrieval.answer_assembly import steps, tokens
from retrieval.answer_types import Answer, AskFilters, TokenCounts
from retrieval.filters import validate_filters
from retrieval.judge import assess
from retrieval.search import check_query


@dataclass(frozen=True)
class Delta:
    text: str


@dataclass(frozen=True)
class Retract:
    reason: str


@dataclass(frozen=True)
class Final:
    answer: Answer


AskEvent = Delta | Retract | Final


def _text_delta(data: dict[str, object]) -> str:
    delta = data.get("delta")
    if isinstance(delta, dict) and delta.get("type") == "text_delta":
        return str(delta.get("text", ""))
    return ""


def _add_spent(answer: Answer, extra_cost: float, extra: TokenCounts, first: list) -> Answer:  # type: ignore[type-arg]
    t = answer.tokens
    return answer.model_copy(
        update={
            "cost_usd": answer.cost_usd + extra_cost,
            "tokens": TokenCounts(
                input=t.input + extra.input,
                output=t.output + extra.output,
                cache_write=t.cache_write + extra.cache_write,
                cache_read=t.cache_read + extra.cache_read,
            ),
            "escalations": [*first, *answer.escalations],
        }
    )


async def ask_stream(
    service: AnswerService,
    question: str,
    *,
    principal: Principal,
    filters: AskFilters | None = None,
    route: str | None = None,
    request_id: str | None = None,
    source: str = "ask",
) -> AsyncIterator[AskEvent]:
    started = service.clock()
    q = check_query(question)
    f = validate_filters(filters)
    rid = request_id or uuid.uuid4().hex
    await service.ensure_prefix(route)
    parts = service.cache_parts(q, principal, f, route) if service.cache is not None else None
    if service.cache is not None and parts is not None:
        hit = await asyncio.to_thread(service.cache.get, parts)
        if hit is not None:
            answer = service.from_cache(hit, rid, started)
            yield Delta(answer.answer)
            yield Final(answer)
            return

    sources = await service.retrieve(q, principal=principal, filters=f, route=route)
    if not sources:
        yield Final(await service.no_sources(q, principal, rid, route, started))
        return
    info = service.route_info(route)
    prefix = service.prefix(route)
    stream = service.gateway.stream(
        service.build_request(sources, q, route),
        principal=principal,
        route=info.name,
        prompt_version=prefix.template_ref,
        source=source,
        request_id=rid,
    )
    streamed = False
    try:
        async for event in stream:
            if event.type == "content_block_delta":
                text = _text_delta(event.data)
                if text:
                    streamed = True
                    yield Delta(text)
    except ProviderError as exc:
        if not streamed:
            yield Final(service.unreachable(q, sources, rid, route, started))
            return
        yield Retract(f"stream interrupted: {exc.code}")
        yield Final(
            await service.answer_from(
                q,
                sources,
                principal=principal,
                route=route,
                request_id=rid,
                source=source,
                cache_parts=parts,
                started=started,
            )
        )
        return

    result = stream.result
    if result is None:  # pragma: no cover - the gateway sets it when the stream ends
        yield Final(service.unreachable(q, sources, rid, route, started))
        return
    verdict = assess(result.response.text, len(sources), result.response.stop_reason)
    if verdict.ok or info.tiers <= 1:
        yield Final(
            await service.conclude(
                q,
                sources,
                result,
                principal=principal,
                route=route,
                cache_parts=parts,
                started=started,
                verdict=verdict,
            )
        )
        return
    yield Retract(f"weak answer: {verdict.reason}")
    escalated = await service.answer_from(
        q,
        sources,
        principal=principal,
        route=route,
        request_id=rid + "-escalated",
        source=source,
        cache_parts=parts,
        started=started,
    )
    first_steps = [
        s.model_copy(update={"outcome": "escalated", "reason": verdict.reason})
        for s in steps(result)
    ]
    yield Final(_add_spent(escalated, result.cost_usd, tokens(result), first_steps))
