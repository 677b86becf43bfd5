"""The HTTP surface of retrieval: ask, search and the human review queue.

    POST /v1/ask                      {"question", "filters"?, "route"?, "stream"?} -> Answer
                                      (stream: SSE events delta / retract / answer / error)
    POST /v1/search                   {"query", "top_k"?, "filters"?} -> {"passages": [...]}
    GET  /v1/review                   ?status=queued&limit=50&offset=0 (reviewer role)
    GET  /v1/review/{id}
    POST /v1/review/{id}/approve      {"note"?}
    POST /v1/review/{id}/reject       {"note"?}
    POST /v1/review/{id}/rewrite      {"answer", "note"?}

Every endpoint needs a key; the asker's principal sets the permission filter of every search.
An approved or rewritten review item answers the same question from the same access scope
again (``Answer.reviewed``; see ``retrieval.reviewed``); a rejected one never does.
"""

# No ``from __future__ import annotations``: FastAPI reads the routes' annotations at
# definition time, and they name dependencies local to ``build_router``.

from collections.abc import AsyncIterator
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from kernel.auth import Authenticate, requires
from kernel.errors import ApiError, NotFound
from kernel.principal import Principal, Role
from kernel.request_context import request_id
from kernel.sse import SSE_HEADERS, sse_frame
from retrieval.answer import AnswerService
from retrieval.answer_types import Answer, AskFilters, Passage
from retrieval.ask_events import AskEvent, Delta, Retract
from retrieval.review import ReviewQueue
from retrieval.search import MAX_QUERY_CHARS, MAX_TOP_K

MAX_NOTE = 20_000


class AskBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(min_length=1, max_length=MAX_QUERY_CHARS)
    filters: AskFilters | None = None
    route: str | None = Field(default=None, min_length=1, max_length=200)
    stream: bool = False


class SearchBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: str = Field(min_length=1, max_length=MAX_QUERY_CHARS)
    top_k: int = Field(default=10, ge=1, le=MAX_TOP_K)
    filters: AskFilters | None = None


class SearchResult(BaseModel):
    query: str
    passages: list[Passage]


class NoteBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field(default="", max_length=MAX_NOTE)


class RewriteBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answer: str = Field(min_length=1, max_length=MAX_NOTE)
    note: str = Field(default="", max_length=MAX_NOTE)


def _encode(item: AskEvent) -> bytes:
    if isinstance(item, Delta):
        return sse_frame("delta", {"text": item.text})
    if isinstance(item, Retract):
        return sse_frame("retract", {"reason": item.reason})
    return sse_frame("answer", item.answer.model_dump(mode="json"))


def build_router(
    service: AnswerService, review: ReviewQueue | None, authenticate: Authenticate
) -> APIRouter:
    """The ask, search and review endpoints over ``service`` and ``review``."""
    router = APIRouter(tags=["ask"])

    def queue() -> ReviewQueue:
        if review is None:
            raise NotFound("the review queue is not configured")
        return review

    Asker = Annotated[Principal, Depends(requires(authenticate))]
    Reviewer = Annotated[Principal, Depends(requires(authenticate, Role.REVIEWER))]

    @router.post(
        "/v1/ask",
        response_model=Answer,
        summary="Ask a question; get a cited answer (or passages when no answer is confident)",
    )
    async def ask(body: AskBody, request: Request, principal: Asker) -> Any:
        if not body.stream:
            return await service.ask(
                body.question,
                principal=principal,
                filters=body.filters,
                route=body.route,
                request_id=request_id(request),
            )
        events = service.ask_stream(
            body.question,
            principal=principal,
            filters=body.filters,
            route=body.route,
            request_id=request_id(request),
        )
        # The first event is awaited here, so bad input, a refused budget or a missing model
        # is still an HTTP error status rather than an event inside a 200 stream.
        first = await events.__anext__()

        async def body_stream() -> AsyncIterator[bytes]:
            yield _encode(first)
            try:
                async for item in events:
                    yield _encode(item)
            except ApiError as exc:
                yield sse_frame("error", exc.to_dict())

        return StreamingResponse(
            body_stream(),
            media_type="text/event-stream",
            headers=SSE_HEADERS,
        )

    @router.post("/v1/search", response_model=SearchResult, summary="Passages only, no model")
    async def search(body: SearchBody, principal: Asker) -> SearchResult:
        passages = await service.search(
            body.query, principal=principal, filters=body.filters, top_k=body.top_k
        )
        return SearchResult(query=body.query, passages=passages)

    @router.get("/v1/review", tags=["review"], summary="The human review queue")
    async def review_list(
        principal: Reviewer,
        status: Annotated[
            str, Query(description="queued|approved|rejected|rewritten|all")
        ] = "queued",
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> dict[str, Any]:
        wanted = None if status == "all" else status
        items = await anyio.to_thread.run_sync(lambda: queue().list(wanted, limit, offset))
        stats = await anyio.to_thread.run_sync(lambda: queue().stats())
        return {
            "items": [i.to_dict() for i in items],
            "stats": {
                "counts": stats.counts,
                "rejection_rate": stats.rejection_rate,
                "rewrite_rate": stats.rewrite_rate,
            },
        }

    @router.get("/v1/review/{item_id}", tags=["review"], summary="One review item")
    async def review_get(item_id: str, principal: Reviewer) -> dict[str, Any]:
        item = await anyio.to_thread.run_sync(lambda: queue().get(item_id))
        return item.to_dict()

    @router.post("/v1/review/{item_id}/approve", tags=["review"], summary="Approve the draft")
    async def approve(
        item_id: str, principal: Reviewer, body: NoteBody | None = None
    ) -> dict[str, Any]:
        note = body.note if body else ""
        item = await anyio.to_thread.run_sync(
            lambda: queue().approve(item_id, reviewer=principal.user_id, note=note)
        )
        return item.to_dict()

    @router.post("/v1/review/{item_id}/reject", tags=["review"], summary="Reject the draft")
    async def reject(
        item_id: str, principal: Reviewer, body: NoteBody | None = None
    ) -> dict[str, Any]:
        note = body.note if body else ""
        item = await anyio.to_thread.run_sync(
            lambda: queue().reject(item_id, reviewer=principal.user_id, note=note)
        )
        return item.to_dict()

    @router.post("/v1/review/{item_id}/rewrite", tags=["review"], summary="Replace the answer")
    async def rewrite(item_id: str, body: RewriteBody, principal: Reviewer) -> dict[str, Any]:
        item = await anyio.to_thread.run_sync(
            lambda: queue().rewrite(
                item_id, reviewer=principal.user_id, answer=body.answer, note=body.note
            )
        )
        return item.to_dict()

    return router
