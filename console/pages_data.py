"""Documents (doc owners: ingestion jobs with progress, failures per file, start and re-run;
the registry with access lists; delete) and evals
(evaluators: runs, their HTML reports, comparisons against a baseline)."""

# No ``from __future__ import annotations``: FastAPI reads the routes' annotations.

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from console.services import ConsoleServices, configured
from console.web import Renderer, guard
from evals.report.render import render_html
from evals.session import compare, report_data
from ingest.api import JobRequest
from kernel.auth import Authenticate
from kernel.errors import InvalidRequest, NotFound
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
        jobs = await services.run(services.jobs.recent, 20) if services.jobs else []
        failed = [d for d in docs if d.status != "ok"]
        return render.page(
            request, "ingest.html", title="Documents", docs=docs, failed=failed, jobs=jobs
        )

    @router.post("/ingest/jobs")
    async def start(
        who: OwnerChange,
        paths: Annotated[str, Form(min_length=1, max_length=4000)],
        manifest: Annotated[str, Form(max_length=1000)] = "",
    ) -> Response:
        """A job as ``POST /v1/ingest/jobs`` starts it: the same checks, the same runner."""
        body = JobRequest(
            paths=[p.strip() for p in paths.splitlines() if p.strip()],
            manifest=manifest.strip() or None,
        )
        await services.run(configured(services.start_job, "ingestion"), body, who.user_id)
        return RedirectResponse("/console/ingest", status_code=303)

    @router.post("/ingest/jobs/{job_id}/rerun")
    async def rerun(job_id: str, who: OwnerChange) -> Response:
        """The job's request again (ingestion is idempotent: unchanged files are skipped)."""
        record = await services.run(configured(services.jobs, "ingestion").get, job_id)
        if record is None:
            raise NotFound(f"no ingestion job {job_id}")
        body = JobRequest.model_validate(record.request)
        await services.run(configured(services.start_job, "ingestion"), body, who.user_id)
        return RedirectResponse("/console/ingest", status_code=303)

    @router.post("/ingest/documents/{doc_id:path}/delete")
    async def delete(doc_id: str, _: OwnerChange) -> Response:
        await services.run(configured(services.ingestor, "ingestion").delete_document, doc_id)
        return RedirectResponse("/console/ingest", status_code=303)

    @router.get("/evals")
    async def evals(request: Request, _: Evaluator) -> Response:
        runs = await services.run(services.runs.list_runs, limit=50) if services.runs else []
        return render.page(request, "evals.html", title="Evals", runs=runs)

    @router.get("/evals/compare")
    async def eval_compare(
        _: Evaluator,
        run: Annotated[str, Query(min_length=1, max_length=64)],
        baseline: Annotated[str, Query(max_length=64)] = "",
    ) -> Response:
        query = f"?baseline={quote(baseline, safe='')}" if baseline else ""
        target = f"/console/evals/{quote(run, safe='')}/report{query}"
        return RedirectResponse(target, status_code=303)

    @router.get("/evals/{run_id}/report")
    async def eval_report(
        run_id: str,
        _: Evaluator,
        baseline: Annotated[str, Query(max_length=64)] = "",
    ) -> Response:
        """The run's self-contained HTML report (``loregate eval report``), compared with
        ``baseline`` when one is chosen."""
        store = configured(services.runs, "eval runs")

        def build() -> str:
            run = store.get(run_id)
            base = store.get(baseline) if baseline else None
            if base is not None and base.id == run.id:
                raise InvalidRequest("compare needs two different runs")
            cmp = compare(store, base, run) if base is not None else None
            return render_html(report_data(store, run, comparison=cmp))

        return HTMLResponse(await services.run(build))

    return router
