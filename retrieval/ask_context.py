"""What one ask needs to know before it searches, computed once per ask: the route's facts,
the active prompt template and its byte-stable prefix, the response-cache key and the key under
which reviewed answers are found. The prompt registry and the index version are read in the
database, so they are read off the event loop, in one hop."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from governance.prompt_types import PromptSource, PromptVersion
from kernel.principal import Principal
from retrieval.answer_types import AskFilters
from retrieval.filters import validate_filters
from retrieval.prefixes import PrefixBook
from retrieval.prompt_layout import PROMPT_ID, Prefix
from retrieval.response_cache import CacheKeyParts
from retrieval.reviewed import answer_key
from retrieval.route_facts import RouteFacts, RouteFactsBook
from retrieval.search import check_query


@dataclass(frozen=True)
class AskRequest:
    """An ask as the caller made it (not yet checked)."""

    question: str
    principal: Principal
    filters: AskFilters | None
    route: str | None
    request_id: str | None
    source: str
    started: float


@dataclass(frozen=True)
class AskContext:
    question: str
    principal: Principal
    filters: AskFilters
    route: RouteFacts
    prefix: Prefix
    request_id: str
    source: str
    started: float
    cache_key: CacheKeyParts | None
    review_key: str | None


async def build_context(
    ask: AskRequest,
    *,
    routes: RouteFactsBook,
    prefixes: PrefixBook,
    prompts: PromptSource,
    index_version: Callable[[], str] | None,
    review_keys: bool,
) -> AskContext:
    """``index_version`` ``None``: no response cache, no cache key. ``review_keys``: compute
    the reviewed-answer key (there is a review queue)."""
    q = check_query(ask.question)
    f = validate_filters(ask.filters)
    facts = routes.facts(ask.route)

    def versions() -> tuple[PromptVersion, str | None]:
        return prompts.active(PROMPT_ID), index_version() if index_version else None

    template, version = await asyncio.to_thread(versions)
    prefix = await prefixes.ensure(template, facts)
    scope = ask.principal.access_tokens()
    return AskContext(
        question=q,
        principal=ask.principal,
        filters=f,
        route=facts,
        prefix=prefix,
        request_id=ask.request_id or uuid.uuid4().hex,
        source=ask.source,
        started=ask.started,
        cache_key=None
        if version is None
        else CacheKeyParts(
            question=q,
            filters=f,
            access_scope=scope,
            prompt_digest=prefix.digest,
            index_version=version,
            route=facts.name,
        ),
        review_key=answer_key(q, f, scope, prefix.template_ref) if review_keys else None,
    )
