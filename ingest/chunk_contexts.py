"""Contextual retrieval at ingestion: a short context in front of each chunk, written once.

Anthropic's contextual retrieval prepends to every chunk a sentence or two that situates it
in its document ("This section of ACME's Q2 2023 10-Q discusses ..."), then embeds and
BM25-indexes the two together. ``LOREGATE_CHUNK_CONTEXT`` chooses who writes it:

- ``header`` (the default, no model): the deterministic context every chunk already opens
  with, the document's identity (``ingest.identity``) and its section path (clause path,
  heading breadcrumb, ticket subject), written by the chunkers. Nothing is added here.
- ``model``: a model writes it through loregate's own gateway (``ingest.context_writer``),
  each document sent once as a cached prefix, every call on the ledger under the ingest job.

Written contexts are kept per document and chunk text (``ingest_chunk_contexts``), saved as
soon as they are written: an unchanged chunk is never sent again, not on a re-run of a
changed document, not after a job was killed half-way. The stage's ``config_id`` is part of
the ingestor's config hash, so turning contexts on re-indexes every document once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import sqlalchemy as sa
from sqlalchemy import Engine

from ingest.chunking.base import EmbeddingTokenCounter, fit_header
from ingest.documents import Chunk, ParsedDocument
from ingest.errors import FileRejected
from ingest.registry import metadata
from kernel.digest import sha256_hex
from kernel.principal import Principal

if TYPE_CHECKING:
    from ingest.prepare import Work

T = TypeVar("T")

# A context shares the embedder's window with its chunk: 200 tokens of chunk plus this fill
# the 256 that all-MiniLM-L6-v2 reads; BM25 indexes all of it either way.
CONTEXT_MAX_TOKENS = 56

contexts_table = sa.Table(
    "ingest_chunk_contexts",
    metadata,
    sa.Column("collection", sa.String(200), primary_key=True),
    sa.Column("doc_id", sa.String(512), primary_key=True),
    sa.Column("chunk_hash", sa.String(64), primary_key=True),
    sa.Column("writer", sa.String(128), primary_key=True),
    sa.Column("context", sa.Text(), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)


@dataclass(frozen=True)
class JobTag:
    """The ingest job a run belongs to, and who started it: the model calls of contextual
    retrieval are made as ``principal`` and carry ``ingest:<job_id>`` as their ledger tag."""

    job_id: str
    principal: Principal

    @classmethod
    def of(cls, job_id: str, user_id: str) -> JobTag:
        return cls(
            job_id, Principal(user_id=user_id or "ingest", project="ingest", tag=f"ingest:{job_id}")
        )


class ContextWriter(Protocol):
    """Writes the context of some chunks of one document (in ``chunks``' order)."""

    @property
    def config_id(self) -> str: ...

    async def write(
        self, doc: ParsedDocument, chunks: Sequence[Chunk], all_chunks: Sequence[Chunk], job: JobTag
    ) -> list[str]: ...


Runner = Callable[[Coroutine[Any, Any, T]], T]
"""Runs a coroutine to its end from ingestion's thread (``loregate.async_bridge``)."""


def chunk_hash(chunk: Chunk) -> str:
    return sha256_hex(chunk.text)


class ContextStore:
    """The written contexts of one collection, by document, chunk text and writer."""

    def __init__(self, engine: Engine, collection: str) -> None:
        self.engine = engine
        self.collection = collection

    def _where(self, doc_id: str) -> Any:
        t = contexts_table.c
        return sa.and_(t.collection == self.collection, t.doc_id == doc_id)

    def get(self, doc_id: str, writer: str, hashes: Iterable[str]) -> dict[str, str]:
        t = contexts_table.c
        wanted = list(set(hashes))
        found: dict[str, str] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(wanted), 500):
                rows = conn.execute(
                    sa.select(t.chunk_hash, t.context).where(
                        self._where(doc_id),
                        t.writer == writer,
                        t.chunk_hash.in_(wanted[start : start + 500]),
                    )
                )
                found.update({r.chunk_hash: r.context for r in rows})
        return found

    def save(self, doc_id: str, writer: str, written: dict[str, str]) -> None:
        if not written:
            return
        now = datetime.now(UTC)
        rows = [
            {
                "collection": self.collection,
                "doc_id": doc_id,
                "chunk_hash": h,
                "writer": writer,
                "context": text,
                "created_at": now,
            }
            for h, text in written.items()
        ]
        try:
            with self.engine.begin() as conn:
                conn.execute(contexts_table.insert(), rows)
        except sa.exc.IntegrityError:
            # another worker wrote some of them since they were read (two queued jobs over one
            # folder): keep its rows, add ours one by one
            for row in rows:
                try:
                    with self.engine.begin() as conn:
                        conn.execute(contexts_table.insert(), [row])
                except sa.exc.IntegrityError:
                    continue

    def keep_only(self, doc_id: str, writer: str, hashes: Iterable[str]) -> None:
        """Forget the document's contexts of chunks it no longer has (or of another writer)."""
        t = contexts_table.c
        stale = sa.or_(t.writer != writer, t.chunk_hash.not_in(list(set(hashes))))
        with self.engine.begin() as conn:
            conn.execute(contexts_table.delete().where(self._where(doc_id), stale))

    def forget(self, doc_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(contexts_table.delete().where(self._where(doc_id)))


class ContextStage:
    """Gives each document's chunks their contexts: stored ones, else written now."""

    def __init__(
        self,
        writer: ContextWriter,
        store: ContextStore,
        counter: EmbeddingTokenCounter,
        run: Runner[list[str]],
    ) -> None:
        self.writer = writer
        self.store = store
        self.counter = counter
        self.run = run
        self.calls = 0  # chunks sent to the writer (what a re-run of an unchanged corpus keeps 0)

    @property
    def config_id(self) -> str:
        return self.writer.config_id

    def prepare(self, work: Work, job: JobTag) -> Work:
        """``work`` with a context for every chunk; ``FileRejected("context_error")`` when the
        writer fails (the document keeps its indexed chunks and is tried again next run)."""
        doc_id, writer = work.doc.doc_id, self.config_id
        hashes = [chunk_hash(c) for c in work.chunks]
        known = self.store.get(doc_id, writer, hashes)
        missing = [c for c, h in zip(work.chunks, hashes, strict=True) if h not in known]
        if missing:
            started = time.perf_counter()
            try:
                written = self.run(self.writer.write(work.doc, missing, work.chunks, job))
            except Exception as exc:
                raise FileRejected(
                    "context_error",
                    f"writing chunk contexts failed after {time.perf_counter() - started:.1f} s:"
                    f" {getattr(exc, 'message', None) or f'{type(exc).__name__}: {exc}'}",
                ) from exc
            self.calls += len(missing)
            fresh = {
                chunk_hash(c): self._fit(text) for c, text in zip(missing, written, strict=True)
            }
            self.store.save(doc_id, writer, fresh)
            known.update(fresh)
        return replace(work, contexts=tuple(known[h] for h in hashes))

    def _fit(self, text: str) -> str:
        text = " ".join(text.split())
        return fit_header(text, self.counter, CONTEXT_MAX_TOKENS)[0] if text else ""

    def recorded(self, work: Work) -> None:
        """The document is recorded: drop the contexts of chunks it no longer has."""
        self.store.keep_only(work.doc.doc_id, self.config_id, map(chunk_hash, work.chunks))


def indexed_text(chunk: Chunk, context: str) -> str:
    """What is embedded and BM25-indexed: the context, then the chunk (header and body)."""
    return f"{context}\n{chunk.text}" if context else chunk.text
