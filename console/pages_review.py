"""The review queue: drafts beside their passages; approve, reject or rewrite; the rates."""

# No ``from __future__ import annotations``: FastAPI reads the routes' annotations.

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from console.services import ConsoleServices, configured
from console.web import Renderer, guard
from kernel.auth import Authenticate
from kernel.errors import InvalidRequest
from kernel.principal import Principal, Role
from retrieval.review import ReviewQueue

Note = Annotated[str, Form(max_length=20_000)]


def review_pages(services: ConsoleServices, auth: Authenticate, render: Renderer) -> APIRouter:
    router = APIRouter()
    Reviewer = Annotated[Principal, Depends(guard(auth, Role.REVIEWER))]
    Decider = Annotated[Principal, Depends(guard(auth, Role.REVIEWER, change=True))]

    def queue() -> ReviewQueue:
        return configured(services.review, "the review queue")

    @router.get("/review")
    async def review(
        request: Request,
        _: Reviewer,
        status: Annotated[str, Query(pattern="^(queued|approved|rejected|rewritten|all)$")] = (
            "queued"
        ),
    ) -> Response:
        q = queue()
        items = await services.run(q.list, None if status == "all" else status, 50, 0)
        stats = await services.run(q.stats)
        return render.page(
            request, "review.html", title="Review queue", items=items, stats=stats, status=status
        )

    @router.post("/review/{item_id}/{decision}")
    async def decide(
        item_id: str,
        decision: str,
        who: Decider,
        note: Note = "",
        answer: Note = "",
    ) -> Response:
        q = queue()
        if decision == "approve":
            await services.run(q.approve, item_id, reviewer=who.user_id, note=note)
        elif decision == "reject":
            await services.run(q.reject, item_id, reviewer=who.user_id, note=note)
        elif decision == "rewrite":
            await services.run(q.rewrite, item_id, reviewer=who.user_id, answer=answer, note=note)
        else:
            raise InvalidRequest(f"unknown decision {decision!r} (approve, reject, rewrite)")
        return RedirectResponse("/console/review", status_code=303)

    return router
