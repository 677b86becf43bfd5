"""Documents (doc owners: the registry with access lists and failures; delete) and evals
(evaluators: runs and their summaries)."""

# No ``from __future__ import annotations``: FastAPI reads the routes' annotations.

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from console.services import ConsoleServices
from console.web import Renderer, guard
from kernel.auth import Authenticate
from kernel.errors import NotFound
from kernel.principal import Principal, Role


def data_pages(services: ConsoleServices, auth: Authenticate, render: Renderer) -> APIRouter:
    router = APIRouter()
    Owner = Annotated[Principal, Depends(guard(auth, Role.DOC_OWNER))]
    OwnerChange = Annotated[Principal, Depends(guard(auth, Role.DOC_OWNER, change=True))]
    Evaluator = Annotated[Principal, Depends(guard(auth, Role.EVALUATOR))]

    @router.get("/ingest")
    async def documents(request: Request, _: Owner) -> Response:
        ingestor = services.ingestor
        docs = await services.run(ingestor.documents, None) if ingestor else []
        failed = [d for d in docs if d.status != "ok"]
        return render.page(request, "ingest.html", title="Documents", docs=docs, failed=failed)

    @router.post("/ingest/documents/{doc_id:path}/delete")
    async def delete(doc_id: str, _: OwnerChange) -> Response:
        if services.ingestor is None:
            raise NotFound("ingestion is not configured")
        await services.run(services.ingestor.delete_document, doc_id)
        return RedirectResponse("/console/ingest", status_code=303)

    @router.get("/evals")
    async def evals(request: Request, _: Evaluator) -> Response:
        runs = await services.run(services.runs.list_runs, limit=50) if services.runs else []
        return render.page(request, "evals.html", title="Evals", runs=runs)

    return router
