"""The ingestion job: prepare (parse, chunk) -> embed -> upsert -> delete stale -> record.

Preparation runs in a background thread, a few documents ahead of embedding, so parsing
overlaps with the model (torch releases the GIL). Writes go document by document, in this
order, which is what makes a killed job safe to run again:

1. upsert the document's new chunks (ids derive from doc id, chunk index and config hash:
   writing them again is a no-op, never a duplicate);
2. delete the document's stale chunks (ids the store holds for it that are not new);
3. record the document in the registry (hashes, chunk count).

A job killed anywhere re-does at most the documents it had not recorded; nothing is lost,
nothing is duplicated. The index version is bumped after every batch that wrote anything.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from ingest.chunk_contexts import ContextStage, JobTag, indexed_text
from ingest.chunking import ChunkingConfig
from ingest.documents import ParsedDocument
from ingest.errors import DocumentNotFound, FileRejected, JobConflict
from ingest.manifest import Manifest, load_manifest
from ingest.prepare import Item, Preparer, Work, base_record
from ingest.read_ahead import read_ahead
from ingest.registry import OK, DocumentRecord, Registry, now
from ingest.report import Failure, IngestReport, NoProgress, Progress
from ingest.sources import Source, discover
from kernel.digest import sha256_hex
from retrieval import index_version, schema
from retrieval.embedder import TextEmbedder
from retrieval.sparse import SparseEncoder
from retrieval.store.base import ChunkPoint, IndexStore

POINT_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://loregate.dev/chunk")
DEFAULT_MAX_FILE_BYTES = 50 * 1024 * 1024

_RUNNING: dict[str, threading.Lock] = {}
_RUNNING_GUARD = threading.Lock()


def point_id(doc_id: str, chunk_index: int, config_hash: str) -> str:
    return str(uuid.uuid5(POINT_NAMESPACE, f"{doc_id}\x1f{chunk_index}\x1f{config_hash}"))


def _collection_lock(collection: str) -> threading.Lock:
    with _RUNNING_GUARD:
        return _RUNNING.setdefault(collection, threading.Lock())


def is_busy(collection: str) -> bool:
    """An ingestion job or a deletion is running on ``collection`` in this process."""
    return _collection_lock(collection).locked()


class Ingestor:
    def __init__(
        self,
        *,
        engine: Engine,
        store: IndexStore,
        embedder: TextEmbedder,
        sparse: SparseEncoder,
        collection: str,
        chunking: ChunkingConfig | None = None,
        max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
        flush_chunks: int = 256,
        prepare_ahead: int = 8,
        contexts: ContextStage | None = None,
    ) -> None:
        self.engine = engine
        self.store = store
        self.embedder = embedder
        self.sparse = sparse
        self.collection = collection
        self.chunking = chunking or ChunkingConfig()
        self.max_file_bytes = max_file_bytes
        self.flush_chunks = flush_chunks
        self.prepare_ahead = prepare_ahead
        self.contexts = contexts  # chunk contexts (ingest.chunk_contexts); None: the header only
        self.registry = Registry(engine, collection)
        self._collection_ready = False

    @property
    def config_hash(self) -> str:
        """Hash of everything that shapes the points: chunker, embedder, sparse encoder."""
        ids = f"{self.chunking.config_id()}|{self.embedder.config_id}|{self.sparse.config_id}"
        if self.contexts is not None:  # the header-only default keeps the hash it always had
            ids += f"|{self.contexts.config_id}"
        return sha256_hex(ids)[:16]

    # Entry points ----------------------------------------------------------------------------
    def ingest_path(
        self,
        paths: Sequence[Path],
        *,
        manifest: Manifest | Path | None = None,
        scope: str | None = None,
        prune: bool = False,
        dry_run: bool = False,
        progress: Progress | None = None,
        job: JobTag | None = None,
    ) -> IngestReport:
        """Ingest a folder, a tree or a list of files (see ``ingest.sources``)."""
        exclude = [manifest] if isinstance(manifest, Path) else []
        parsed_manifest = manifest if isinstance(manifest, Manifest) else load_manifest(manifest)
        source = discover(paths, parsed_manifest, scope=scope, exclude=exclude)
        return self.ingest_source(source, prune=prune, dry_run=dry_run, progress=progress, job=job)

    def ingest_source(
        self,
        source: Source,
        *,
        prune: bool = False,
        dry_run: bool = False,
        progress: Progress | None = None,
        job: JobTag | None = None,
    ) -> IngestReport:
        """Ingest the files of a discovered source (a task queue's worker passes one file of
        a job's source at a time: same root and scope, so the same document ids)."""
        # a few files (a task's): only their rows, not the whole scope's, for each task
        few = len(source.files) <= 16
        existing = (
            self.registry.of_origins(source.scope, [f.rel for f in source.files])
            if few
            else self.registry.list(source.scope)
        )
        preparer = self._preparer(existing, dry_run)
        items = preparer.files(source)
        return self._run(source.scope, items, len(source.files), prune, dry_run, progress, job)

    def ingest_documents(
        self,
        docs: Iterable[ParsedDocument],
        *,
        scope: str,
        prune: bool = False,
        dry_run: bool = False,
        progress: Progress | None = None,
        job: JobTag | None = None,
    ) -> IngestReport:
        """Ingest documents that come already parsed, incrementally, pruning by ``scope``."""
        docs = list(docs)
        existing = self.registry.get_many(d.doc_id for d in docs)
        preparer = self._preparer(list(existing.values()), dry_run)
        items = preparer.documents(docs, scope)
        return self._run(scope, items, len(docs), prune, dry_run, progress, job)

    def delete_document(self, doc_id: str) -> int:
        """Delete a document's chunks and its registry row; returns the chunks deleted."""
        with _collection_lock(self.collection):
            ids = self.store.ids_for_doc(doc_id)
            if not ids and self.registry.get(doc_id) is None:
                raise DocumentNotFound(f"no document {doc_id!r} in collection {self.collection}")
            self.store.delete(ids)
            self.registry.delete(doc_id)
            if self.contexts is not None:
                self.contexts.store.forget(doc_id)
            index_version.bump(self.engine, self.collection)
            return len(ids)

    def documents(self, scope: str | None = None) -> list[DocumentRecord]:
        return self.registry.list(scope)

    # The run ---------------------------------------------------------------------------------
    def _preparer(self, existing: Iterable[DocumentRecord], dry_run: bool) -> Preparer:
        return Preparer(
            counter=self.embedder,
            chunking=self.chunking,
            config_hash=self.config_hash,
            max_file_bytes=self.max_file_bytes,
            existing={r.doc_id: r for r in existing},
            dry_run=dry_run,
        )

    def _run(
        self,
        scope: str,
        items: Iterator[Item],
        total: int,
        prune: bool,
        dry_run: bool,
        progress: Progress | None,
        job: JobTag | None,
    ) -> IngestReport:
        lock = _collection_lock(self.collection)
        if not lock.acquire(blocking=False):
            raise JobConflict(f"an ingestion job is already running on {self.collection!r}")
        job = job or JobTag.of(f"run-{uuid.uuid4().hex[:12]}", "")
        try:
            return self._run_locked(
                scope, items, total, prune, dry_run, progress or NoProgress(), job
            )
        finally:
            lock.release()

    def _run_locked(
        self,
        scope: str,
        items: Iterator[Item],
        total: int,
        prune: bool,
        dry_run: bool,
        progress: Progress,
        job: JobTag,
    ) -> IngestReport:
        started = time.perf_counter()
        report = IngestReport(collection=self.collection, scope=scope, dry_run=dry_run)
        progress.start(total)
        seen: set[str] = set()
        failed_origins: set[str] = set()
        buffer: list[Work] = []
        buffered = 0
        for item in read_ahead(items, self.prepare_ahead):
            if item.doc_id:
                seen.add(item.doc_id)
            if item.kind == "unchanged":
                report.unchanged.append(item.doc_id or item.origin)
            elif item.kind == "plan":
                getattr(report, item.outcome).append(item.doc_id or item.origin)
            elif item.kind == "fail":
                self._record_failure(item, report, failed_origins, dry_run)
            elif (work := self._with_contexts(item, job, report, failed_origins)) is not None:
                buffer.append(work)
                buffered += len(work.chunks)
                if buffered >= self.flush_chunks:
                    self._flush(buffer, report, progress)
                    buffer, buffered = [], 0
            if item.file_done:
                report.files += 1
                progress.file_done(item.origin, item.kind)
        self._flush(buffer, report, progress)
        if prune:
            self._prune(scope, seen, failed_origins, report, dry_run)
        if (report.chunks_written or report.chunks_deleted) and not dry_run:
            self.store.optimize()
        report.index_version = index_version.current(self.engine, self.collection)
        report.seconds = time.perf_counter() - started
        return report

    def _with_contexts(
        self, item: Item, job: JobTag, report: IngestReport, failed_origins: set[str]
    ) -> Work | None:
        """The item's work with its chunk contexts; None when writing them failed (recorded
        as the document's failure: it keeps its indexed chunks and is tried next run)."""
        if item.work is None or self.contexts is None:
            return item.work
        w, before = item.work, self.contexts.calls
        try:
            return self.contexts.prepare(w, job)
        except FileRejected as exc:
            base = base_record(w.doc, w.scope, w.origin)
            failed = Item("fail", item.origin, item.doc_id, failure=exc, base=base)
            self._record_failure(failed, report, failed_origins, False)
            return None
        finally:
            report.contexts_written += self.contexts.calls - before

    def _record_failure(
        self, item: Item, report: IngestReport, failed_origins: set[str], dry_run: bool
    ) -> None:
        assert item.failure is not None
        failure = item.failure
        report.failed.append(Failure(item.origin, failure.code, failure.message, item.doc_id))
        failed_origins.add(item.origin)
        if not dry_run and item.base is not None and failure.code != "unsupported_type":
            self.registry.save_failed(item.base, failure.code, failure.message)

    def _flush(self, buffer: list[Work], report: IngestReport, progress: Progress) -> None:
        if not buffer:
            return
        texts = [
            indexed_text(c, w.contexts[i] if w.contexts else "")
            for w in buffer
            for i, c in enumerate(w.chunks)
        ]
        headings = [schema.heading_text(w.doc.title, c.section) for w in buffer for c in w.chunks]
        dense = self.embedder.embed_documents(texts)
        sparse = self.sparse.encode_documents(texts, headings)
        if not self._collection_ready:
            self.store.ensure_collection(int(dense.shape[1]))
            self._collection_ready = True
        points: list[ChunkPoint] = []
        row = 0
        for work in buffer:
            for n, chunk in enumerate(work.chunks):
                payload = self._payload(work, chunk.index, chunk.section, chunk.text, chunk.extra)
                if work.contexts:
                    payload[schema.CONTEXT] = work.contexts[n]
                pid = point_id(work.doc.doc_id, chunk.index, self.config_hash)
                points.append(ChunkPoint(pid, dense[row].tolist(), sparse[row], payload))
                row += 1
        self.store.upsert(points)
        start = 0
        stale: list[str] = []
        for work in buffer:
            new_ids = {p.id for p in points[start : start + len(work.chunks)]}
            start += len(work.chunks)
            # also for "added" documents: a killed run may have left points with no registry row
            stale += [i for i in self.store.ids_for_doc(work.doc.doc_id) if i not in new_ids]
        self.store.delete(stale)  # all new chunks are in: now the stale ones go
        report.chunks_deleted += len(stale)
        self.registry.save_many(self._record(w) for w in buffer)  # then the registry says so
        if self.contexts is not None:
            for work in buffer:
                self.contexts.recorded(work)
        for work in buffer:
            getattr(report, work.outcome).append(work.doc.doc_id)
            report.public_by_default += int(work.public_by_default)
        report.chunks_written += len(points)
        progress.chunks_written(len(points))
        index_version.bump(self.engine, self.collection)

    def _payload(
        self, work: Work, index: int, section: str, text: str, extra: Any
    ) -> dict[str, Any]:
        doc = work.doc
        payload: dict[str, Any] = {
            **doc.metadata,
            **extra,
            schema.DOC_ID: doc.doc_id,
            schema.CHUNK_INDEX: index,
            schema.DOC_TYPE: doc.doc_type,
            schema.DEPARTMENT: doc.department,
            schema.ACCESS: list(doc.access),
            schema.SOURCE: doc.source,
            schema.TITLE: doc.title,
            schema.SECTION: section,
            schema.TEXT: text,
            schema.TAGS: list(doc.tags),
            schema.LANGUAGE: doc.language,
            schema.UPDATED_AT: float(doc.updated_at or 0.0),
            schema.CONTENT_HASH: work.content_hash,
            schema.CONFIG_HASH: self.config_hash,
            schema.OWNER: doc.owner,
            schema.SCOPE: work.scope,
            schema.CHUNK_COUNT: len(work.chunks),
        }
        return payload

    def _record(self, work: Work) -> DocumentRecord:
        doc = work.doc
        return DocumentRecord(
            doc_id=doc.doc_id,
            scope=work.scope,
            origin=work.origin,
            source=doc.source,
            title=doc.title[:500],
            doc_type=doc.doc_type,
            department=doc.department,
            owner=doc.owner,
            access=list(doc.access),
            content_hash=work.content_hash,
            meta_hash=work.meta_hash,
            config_hash=self.config_hash,
            chunk_count=len(work.chunks),
            status=OK,
            error_code=None,
            last_error=None,
            ingested_at=now(),
            updated_at=now(),
        )

    def _prune(
        self,
        scope: str,
        seen: set[str],
        failed_origins: set[str],
        report: IngestReport,
        dry_run: bool,
    ) -> None:
        """Delete documents of ``scope`` that this run did not see (a file that failed to
        parse keeps its documents: it is still in the source)."""
        wrote = False
        for record in self.registry.list(scope):
            if record.doc_id in seen or record.origin in failed_origins:
                continue
            report.deleted.append(record.doc_id)
            if dry_run:
                continue
            ids = self.store.ids_for_doc(record.doc_id)
            self.store.delete(ids)
            self.registry.delete(record.doc_id)
            if self.contexts is not None:
                self.contexts.store.forget(record.doc_id)
            report.chunks_deleted += len(ids)
            wrote = True
        if wrote:
            index_version.bump(self.engine, self.collection)
