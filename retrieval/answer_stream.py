"""``POST /v1/ask`` with ``"stream": true``: the first tier's answer streamed as it is written.

The gateway does not judge streams (the bytes are already with the caller), so the answer
service judges the streamed answer when it ends:

- good: a final ``answer`` event with the citations, tokens and cost;
- weak, and the route has a tier after the one that streamed: a ``retract`` event (the client
  discards the text it showed), then the question goes through ``AnswerService.answer_from``
  from that next tier (``Gateway.invoke(start_tier=...)``), with the judge, escalating further
  as in the non-streamed path; the tier that streamed is not asked again. The cost of the
  streamed attempt is added to the final answer;
- weak on the route's last tier: degraded (passages, "no confident answer", review queue).

A stream that breaks after its first text is retracted and asked again without streaming, from
the route's first tier (request id ``<id>-retried``). A cached or reviewed answer is sent as
one ``delta`` then the ``answer``.

Events: ``delta`` {"text"} · ``retract`` {"reason"} · ``answer`` {the Answer}.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

from gateway.types import InvocationResult
from kernel.errors import ProviderError
from kernel.principal import Principal
from retrieval.answer import AnswerService
from retrieval.answer_assembly import answering_tier, steps, tokens
from retrieval.answer_ports import RouteInfo
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


def next_tier(service: AnswerService, info: RouteInfo, result: InvocationResult) -> int | None:
    """The tier after the one that streamed ``result``, or ``None`` when it was the last.

    When governance moved the stream to another route (a soft budget limit), the next tier must
    exist on both routes: the re-ask names the asked route and may be moved again."""
    tier, _ = answering_tier(result)
    if tier is None:
        return None
    tiers = info.tiers
    if result.route != info.name:
        tiers = min(tiers, service.route_info(result.route).tiers)
    return tier + 1 if tier + 1 < tiers else None


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
    key = service.review_key(q, principal, f, route)
    reviewed = await service.from_review(key, q, principal, f, rid, started)
    if reviewed is not None:
        yield Delta(reviewed.answer)
        yield Final(reviewed)
        return

    sources = await service.retrieve(q, principal=principal, filters=f, route=route)
    if not sources:
        yield Final(await service.no_sources(q, principal, rid, route, started, key))
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
                request_id=rid + "-retried",
                source=source,
                cache_parts=parts,
                started=started,
                review_key=key,
            )
        )
        return

    result = stream.result
    if result is None:  # pragma: no cover - the gateway sets it when the stream ends
        yield Final(service.unreachable(q, sources, rid, route, started))
        return
    verdict = assess(result.response.text, len(sources), result.response.stop_reason)
    start = None if verdict.ok else next_tier(service, info, result)
    if start is None:
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
                review_key=key,
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
        review_key=key,
        start_tier=start,
    )
    first_steps = [
        s.model_copy(update={"outcome": "escalated", "reason": verdict.reason})
        for s in steps(result)
    ]
    yield Final(_add_spent(escalated, result.cost_usd, tokens(result), first_steps))
