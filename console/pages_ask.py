"""The Ask page: a streamed answer with its citations, tier, escalations, tokens and cost,
and feedback that goes to the review queue."""

# No ``from __future__ import annotations``: FastAPI reads the routes' annotations.

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from console.services import ConsoleServices, configured
from console.web import Renderer, guard
from kernel.auth import Authenticate
from kernel.errors import ApiError
from kernel.principal import Principal
from kernel.request_context import request_id
from kernel.sse import SSE_HEADERS, sse_frame
from retrieval.ask_events import Delta, Retract
from retrieval.search import MAX_QUERY_CHARS

Question = Annotated[str, Form(min_length=1, max_length=MAX_QUERY_CHARS)]


def ask_pages(services: ConsoleServices, auth: Authenticate, render: Renderer) -> APIRouter:
    router = APIRouter()
    Asker = Annotated[Principal, Depends(guard(auth))]
    Changer = Annotated[Principal, Depends(guard(auth, change=True))]

    def answer_html(request: Request, answer: object) -> str:
        template = render.templates.get_template("_answer.html")
        return template.render(answer=answer, csrf=_csrf(request))

    @router.get("/ask")
    async def ask_page(request: Request, _: Asker) -> Response:
        return render.page(request, "ask.html", title="Ask")

    @router.post("/ask")
    async def ask(request: Request, who: Changer, question: Question) -> Response:
        """Without JavaScript: the whole answer in one page."""
        answer = await services.answers.ask(
            question, principal=who, request_id=request_id(request), source="ask"
        )
        return render.page(
            request, "ask.html", title="Ask", question=question, answer=answer_html(request, answer)
        )

    @router.post("/ask/stream")
    async def ask_stream(request: Request, who: Changer, question: Question) -> Response:
        """SSE as ``POST /v1/ask`` streams it, the last frame carrying the rendered answer."""
        events = services.answers.ask_stream(
            question, principal=who, request_id=request_id(request), source="ask"
        )
        first = await events.__anext__()  # bad input or a refused budget is an error status

        async def frames() -> AsyncIterator[bytes]:
            item = first
            try:
                while True:
                    if isinstance(item, Delta):
                        yield sse_frame("delta", {"text": item.text})
                    elif isinstance(item, Retract):
                        yield sse_frame("retract", {"reason": item.reason})
                    else:
                        yield sse_frame("answer", {"html": answer_html(request, item.answer)})
                    item = await events.__anext__()
            except StopAsyncIteration:
                return
            except ApiError as exc:
                yield sse_frame("error", exc.to_dict())

        return StreamingResponse(frames(), media_type="text/event-stream", headers=SSE_HEADERS)

    @router.post("/feedback")
    async def feedback(
        request: Request,
        who: Changer,
        question: Question,
        answer: Annotated[str, Form(max_length=20_000)],
        comment: Annotated[str, Form(max_length=2_000)] = "",
        answer_request_id: Annotated[str, Form(max_length=128)] = "",
    ) -> Response:
        """A user's "this answer is wrong" goes to the review queue as an item to decide."""
        queue = configured(services.review, "the review queue")
        reason = f"feedback: {comment.strip()}" if comment.strip() else "feedback"
        await services.run(
            queue.enqueue,
            question=question,
            draft_answer=answer,
            reason=reason,
            passages=[],
            asker_user_id=who.user_id,
            asker_department=who.department,
            request_id=answer_request_id,
        )
        return HTMLResponse('<p role="status">Thanks: sent to the review queue.</p>')

    return router


def _csrf(request: Request) -> str:
    session = getattr(request.state, "console_session", None)
    return str(getattr(session, "csrf", ""))
