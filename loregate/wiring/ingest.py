"""Wiring of the `ingest` package: the ingestor, and the ingestion and document endpoints.

    POST   /v1/ingest/jobs          start a job (202): {"paths": [...], "manifest", "prune",
                                    "dry_run", "source"}; paths must lie under
                                    LOREGATE_INGEST_ROOTS (default $LOREGATE_HOME/inbox)
    GET    /v1/ingest/jobs/{id}     the job's progress and, when done, its counts and errors
    GET    /v1/documents            the document registry (?source=<scope>)
    DELETE /v1/documents/{doc_id}   delete a document from the index

Doc-owner keys (and admins) only.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from ingest.errors import JobConflict, PathNotAllowed, SourceNotFound
from ingest.jobs import JobProgress, JobStore
from ingest.pipeline import Ingestor, is_busy
from kernel.auth import requires
from kernel.errors import NotFound
from kernel.principal import Principal, Role
from loregate.wiring import governance
from loregate.wiring import store as store_wiring

if TYPE_CHECKING:
    from loregate.container import Container

log = logging.getLogger("loregate.ingest")


def ingestor(container: Container) -> Ingestor:
    """The ingestor of the configured collection."""
    return ingestor_for(container, container.settings.collection)


def ingestor_for(container: Container, collection: str) -> Ingestor:
    def build(c: Container) -> Ingestor:
        return Ingestor(
            engine=c.engine,
            store=store_wiring.store_for(c, collection),
            embedder=store_wiring.embedder(c),
            sparse=store_wiring.sparse(c),
            collection=collection,
            max_file_bytes=c.settings.max_file_bytes,
        )

    built: Ingestor = container.part(f"ingestor:{collection}", build)
    return built


def job_store(container: Container) -> JobStore:
    built: JobStore = container.part("ingest_jobs", lambda c: JobStore(c.engine))
    return built


def allowed_roots(container: Container) -> list[Path]:
    s = container.settings
    if s.ingest_roots:
        return [Path(p).expanduser().resolve() for p in s.ingest_roots.split(os.pathsep) if p]
    return [(s.home / "inbox").resolve()]


def check_allowed(container: Container, path: str) -> Path:
    resolved = Path(path).expanduser().resolve()
    roots = allowed_roots(container)
    if not any(resolved == r or r in resolved.parents for r in roots):
        shown = ", ".join(str(r) for r in roots)
        raise PathNotAllowed(
            f"{path} is outside the folders the API may ingest ({shown}); "
            "set LOREGATE_INGEST_ROOTS on the server to allow more"
        )
    return resolved


class JobRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    paths: list[str] = Field(min_length=1, description="files or folders on the server")
    manifest: str | None = Field(default=None, description="a manifest file on the server")
    prune: bool = False
    dry_run: bool = False
    source: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.-]+$")


def run_job(container: Container, job_id: str, request: JobRequest) -> None:
    """The job body (in a background thread): every failure ends in the job's row."""
    jobs = job_store(container)
    try:
        report = ingestor(container).ingest_path(
            [Path(p) for p in request.paths],
            manifest=Path(request.manifest) if request.manifest else None,
            scope=request.source,
            prune=request.prune,
            dry_run=request.dry_run,
            progress=JobProgress(jobs, job_id),
        )
        jobs.finished(job_id, report)
    except Exception as exc:  # the job's record says what went wrong, whatever it was
        log.exception("ingestion job %s failed", job_id)
        message = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
        jobs.failed(job_id, message)


def run_queued(container: Container) -> str | None:
    """Claim the oldest queued job and run it here (``loregate ingest-worker``)."""
    record = job_store(container).claim()
    if record is None:
        return None
    run_job(container, record.id, JobRequest.model_validate(record.request))
    return record.id


def start_background(fn: Any, *args: Any) -> None:
    """Run a job body in a daemon thread (tests replace this to run inline)."""
    threading.Thread(target=fn, args=args, name="ingest-job", daemon=True).start()


def routers(container: Container) -> list[APIRouter]:
    owner = requires(governance.authenticator(container), Role.DOC_OWNER)
    router = APIRouter(tags=["ingestion"])

    @router.post("/v1/ingest/jobs", status_code=202, summary="Start an ingestion job")
    def start_job(
        body: JobRequest,
        principal: Principal = Depends(owner),  # noqa: B008
    ) -> JSONResponse:
        paths = [str(check_allowed(container, p)) for p in body.paths]
        for p in [*paths, *([body.manifest] if body.manifest else [])]:
            if not Path(p).exists():
                raise SourceNotFound(f"no such file or folder on the server: {p}")
        manifest = str(check_allowed(container, body.manifest)) if body.manifest else None
        request = body.model_copy(update={"paths": paths, "manifest": manifest})
        collection = container.settings.collection
        if is_busy(collection):
            raise JobConflict(f"an ingestion job is already running on {collection!r}")
        job_id = job_store(container).create(collection, request.model_dump(), principal.user_id)
        if not container.settings.ingest_queue:
            start_background(run_job, container, job_id, request)
        return JSONResponse(
            {"job_id": job_id, "status": "queued", "url": f"/v1/ingest/jobs/{job_id}"},
            status_code=202,
        )

    @router.get("/v1/ingest/jobs/{job_id}", summary="An ingestion job's progress and result")
    def get_job(
        job_id: str,
        principal: Principal = Depends(owner),  # noqa: B008
    ) -> dict[str, Any]:
        record = job_store(container).get(job_id)
        if record is None:
            raise NotFound(f"no ingestion job {job_id}")
        return record.as_json()

    @router.get("/v1/documents", summary="Documents in the index (the registry)")
    def list_documents(
        source: str | None = None,
        principal: Principal = Depends(owner),  # noqa: B008
    ) -> dict[str, Any]:
        docs = ingestor(container).documents(source)
        return {"documents": [d.as_json() for d in docs], "count": len(docs)}

    @router.delete("/v1/documents/{doc_id:path}", summary="Delete a document from the index")
    def delete_document(
        doc_id: str,
        principal: Principal = Depends(owner),  # noqa: B008
    ) -> dict[str, Any]:
        deleted = ingestor(container).delete_document(doc_id)
        from retrieval import index_version

        version = index_version.current(container.engine, container.settings.collection)
        return {"doc_id": doc_id, "chunks_deleted": deleted, "index_version": version}

    return [router]
