"""Turning a gateway result (or its absence) into the ``Answer`` the caller receives."""

from __future__ import annotations

from gateway.types import InvocationResult
from retrieval.answer_types import Answer, EscalationStep, TokenCounts
from retrieval.citations import citation_for, map_citations, passage_for
from retrieval.context_builder import Source

NO_CONFIDENT_ANSWER = (
    "No confident answer. No model tier gave an answer that cites the sources, so the best "
    "matching passages are listed instead; the question has been queued for human review."
)
NO_SOURCES = (
    "No confident answer. No document you are allowed to read matches this question; it has "
    "been queued for human review."
)
NO_MODEL_REACHABLE = (
    "NO MODEL REACHABLE: this is not an answer. No model could be reached, so the best "
    "matching passages are listed below, unverified. Read them yourself or ask again later."
)


def steps(result: InvocationResult) -> list[EscalationStep]:
    return [
        EscalationStep(
            tier=a.tier,
            model=a.model_alias,
            outcome=a.outcome,
            reason=a.escalation_reason or a.error_class,
            cost_usd=a.cost_usd,
        )
        for a in result.attempts
    ]


def tokens(result: InvocationResult) -> TokenCounts:
    u = result.usage
    return TokenCounts(
        input=u.input_tokens,
        output=u.output_tokens,
        cache_write=u.cache_creation_input_tokens,
        cache_read=u.cache_read_input_tokens,
    )


def answering_tier(result: InvocationResult) -> tuple[int | None, str | None]:
    for a in reversed(result.attempts):
        if a.outcome in ("ok", "escalated"):
            return a.tier, a.model_alias
    return None, result.response.model_alias or None


def confident_answer(
    question: str, sources: list[Source], result: InvocationResult, latency_ms: float
) -> Answer:
    text = result.response.text.strip()
    tier, model = answering_tier(result)
    return Answer(
        question=question,
        answer=text,
        citations=map_citations(text, sources),
        confident=True,
        passages=[passage_for(s) for s in sources],
        tier=tier,
        model=model,
        escalations=steps(result),
        tokens=tokens(result),
        cost_usd=result.cost_usd,
        latency_ms=latency_ms,
        prompt_version=result.prompt_version,
        request_id=result.request_id,
    )


def passage_listing(sources: list[Source]) -> str:
    lines = []
    for src in sources:
        section = src.section
        if src.title and section.startswith(src.title + " > "):
            section = section[len(src.title) + 3 :]  # the breadcrumb repeats the title
        elif section == src.title:
            section = ""
        where = " - ".join(x for x in (src.title, section) if x) or src.source
        lines.append(f"[{src.n}] {where} ({src.source})" if src.source else f"[{src.n}] {where}")
    return "\n".join(lines)


def degraded_answer(
    question: str,
    sources: list[Source],
    *,
    kind: str,
    header: str,
    request_id: str,
    prompt_version: str | None,
    latency_ms: float,
    result: InvocationResult | None = None,
    review_id: str | None = None,
) -> Answer:
    """Passages instead of an answer; the text lists them as [n] so citations map back."""
    tier, model = answering_tier(result) if result is not None else (None, None)
    text = header
    if sources:
        text += "\n\nBest matching passages:\n" + passage_listing(sources)
    return Answer(
        question=question,
        answer=text,
        citations=[citation_for(s) for s in sources],
        confident=False,
        degraded=kind,
        passages=[passage_for(s) for s in sources],
        tier=tier,
        model=model,
        escalations=steps(result) if result is not None else [],
        tokens=tokens(result) if result is not None else TokenCounts(),
        cost_usd=result.cost_usd if result is not None else 0.0,
        latency_ms=latency_ms,
        prompt_version=prompt_version,
        request_id=request_id,
        review_id=review_id,
    )
