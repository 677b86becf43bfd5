"""The HTTP surface of ingestion: jobs and the document registry (doc-owner keys and admins).

    POST   /v1/ingest/jobs          start a job (202): {"paths": [...], "manifest", "prune",
                                    "dry_run", "source"}; paths must lie under the allowed
                                    roots (LOREGATE_INGEST_ROOTS, default $LOREGATE_HOME/inbox)
    GET    /v1/ingest/jobs/{id}     the job's progress and, when done, its counts and errors
    GET    /v1/documents            the document registry (?source=<scope>)
    DELETE /v1/documents/{doc_id}   delete a document from the index

A job runs in the API process (in a thread) unless it goes to the task queue (``submit``:
``ingest.task_queue``, per-document tasks shared by every worker) or is left queued for
``loregate ingest-worker`` processes (``queue_only``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from ingest.chunk_contexts import JobTag
from ingest.errors import JobConflict, PathNotAllowed, SourceNotFound
from ingest.jobs import JobProgress, JobStore
from ingest.pipeline import Ingestor, is_busy
from kernel.auth import Authenticate, requires
from kernel.errors import NotFound
from kernel.principal import Principal, Role
from retrieval import index_version

log = logging.getLogger("loregate.ingest")

JobRunner = Callable[[Callable[[], None]], None]


def in_thread(body: Callable[[], None]) -> None:
    """Run a job body in a daemon thread (the default ``JobRunner``)."""
    threading.Thread(target=body, name="ingest-job", daemon=True).start()


class JobRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    paths: list[str] = Field(min_length=1, description="files or folders on the server")
    manifest: str | None = Field(default=None, description="a manifest file on the server")
    prune: bool = False
    dry_run: bool = False
    source: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.-]+$")


def check_allowed(roots: Sequence[Path], path: str) -> Path:
    """``path`` resolved, if it lies under one of ``roots``; else ``PathNotAllowed``."""
    resolved = Path(path).expanduser().resolve()
    if not any(resolved == r or r in resolved.parents for r in roots):
        shown = ", ".join(str(r) for r in roots)
        raise PathNotAllowed(
            f"{path} is outside the folders the API may ingest ({shown}); "
            "set LOREGATE_INGEST_ROOTS on the server to allow more"
        )
    return resolved


def run_job(ingestor: Ingestor, jobs: JobStore, job_id: str, request: JobRequest) -> None:
    """The job body: every failure ends in the job's row."""
    try:
        record = jobs.get(job_id)
        who = record.created_by if record is not None else ""
        report = ingestor.ingest_path(
            [Path(p) for p in request.paths],
            manifest=Path(request.manifest) if request.manifest else None,
            scope=request.source,
            prune=request.prune,
            dry_run=request.dry_run,
            progress=JobProgress(jobs, job_id),
            job=JobTag.of(job_id, who),
        )
        jobs.finished(job_id, report)
    except Exception as exc:  # the job's record says what went wrong, whatever it was
        log.exception("ingestion job %s failed", job_id)
        message = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
        jobs.failed(job_id, message)


def submit_job(
    body: JobRequest,
    created_by: str,
    *,
    ingestor: Ingestor,
    jobs: JobStore,
    roots: Sequence[Path],
    queue_only: bool,
    run_in_background: JobRunner,
    submit: Callable[[str], None] | None = None,
) -> str:
    """Check and record a job, and start it unless jobs are left queued; its id."""
    collection = ingestor.collection
    paths = [str(check_allowed(roots, p)) for p in body.paths]
    for p in [*paths, *([body.manifest] if body.manifest else [])]:
        if not Path(p).exists():
            raise SourceNotFound(f"no such file or folder on the server: {p}")
    manifest = str(check_allowed(roots, body.manifest)) if body.manifest else None
    request = body.model_copy(update={"paths": paths, "manifest": manifest})
    if submit is None and is_busy(collection):
        raise JobConflict(f"an ingestion job is already running on {collection!r}")
    job_id = jobs.create(collection, request.model_dump(), created_by)
    if submit is not None:
        submit(job_id)  # jobs share the workers; their tasks interleave by priority
    elif not queue_only:
        run_in_background(lambda: run_job(ingestor, jobs, job_id, request))
    return job_id


def run_queued(ingestor: Ingestor, jobs: JobStore) -> str | None:
    """Claim the oldest queued job and run it here (``loregate ingest-worker``)."""
    record = jobs.claim()
    if record is None:
        return None
    run_job(ingestor, jobs, record.id, JobRequest.model_validate(record.request))
    return record.id


def ingest_router(
    *,
    ingestor: Ingestor,
    jobs: JobStore,
    authenticate: Authenticate,
    roots: Sequence[Path],
    queue_only: bool = False,
    run_in_background: JobRunner = in_thread,
    submit: Callable[[str], None] | None = None,
) -> APIRouter:
    owner = requires(authenticate, Role.DOC_OWNER)
    router = APIRouter(tags=["ingestion"])
    collection = ingestor.collection
    start = partial(
        submit_job,
        ingestor=ingestor,
        jobs=jobs,
        roots=roots,
        queue_only=queue_only,
        run_in_background=run_in_background,
        submit=submit,
    )

    @router.post("/v1/ingest/jobs", status_code=202, summary="Start an ingestion job")
    def start_job(
        body: JobRequest,
        principal: Principal = Depends(owner),  # noqa: B008
    ) -> JSONResponse:
        job_id = start(body, principal.user_id)
        return JSONResponse(
            {"job_id": job_id, "status": "queued", "url": f"/v1/ingest/jobs/{job_id}"},
            status_code=202,
        )

    @router.get("/v1/ingest/jobs/{job_id}", summary="An ingestion job's progress and result")
    def get_job(
        job_id: str,
        principal: Principal = Depends(owner),  # noqa: B008
    ) -> dict[str, Any]:
        record = jobs.get(job_id)
        if record is None:
            raise NotFound(f"no ingestion job {job_id}")
        return record.as_json()

    @router.get("/v1/documents", summary="Documents in the index (the registry)")
    def list_documents(
        source: str | None = None,
        principal: Principal = Depends(owner),  # noqa: B008
    ) -> dict[str, Any]:
        docs = ingestor.documents(source)
        return {"documents": [d.as_json() for d in docs], "count": len(docs)}

    @router.delete("/v1/documents/{doc_id:path}", summary="Delete a document from the index")
    def delete_document(
        doc_id: str,
        principal: Principal = Depends(owner),  # noqa: B008
    ) -> dict[str, Any]:
        deleted = ingestor.delete_document(doc_id)
        version = index_version.current(ingestor.engine, collection)
        return {"doc_id": doc_id, "chunks_deleted": deleted, "index_version": version}

    return router
