"""The first stage of a run: from sources to documents that need writing.

For each file it validates, hashes, and asks the registry whether the document changed; only
a changed document is parsed and chunked. Unchanged documents cost a file read and a hash,
which keeps a re-run of an unchanged corpus to a small share of the first run. Every failure
is an item of its own: the run records it and goes on.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Literal

from ingest.chunking import ChunkingConfig, EmbeddingTokenCounter, chunk_document
from ingest.documents import Chunk, DocType, Element, ParsedDocument
from ingest.errors import FileRejected
from ingest.identity import HEAD_CHARS, identity_title
from ingest.loaders.files import is_ticket_export, parse_file, parse_ticket_export, read_file
from ingest.loaders.tickets import Ticket
from ingest.registry import DocumentRecord
from ingest.sources import Source, SourceFile, file_doc_id, ticket_doc_id
from kernel.digest import sha256_hex

ItemKind = Literal["unchanged", "write", "plan", "fail"]

_CONTRACT_NAME = re.compile(r"(^|[^a-z])(agreement|contract|nda|msa|sow|terms)([^a-z]|$)")


@dataclass(frozen=True)
class Work:
    doc: ParsedDocument
    scope: str
    origin: str
    content_hash: str
    meta_hash: str
    chunks: list[Chunk]
    outcome: Literal["added", "updated"]
    public_by_default: bool = False
    contexts: tuple[str, ...] = ()  # one per chunk when chunk contexts are on (chunk_contexts)


@dataclass(frozen=True)
class Item:
    kind: ItemKind
    origin: str  # source-relative path (files) or the document id (pre-parsed documents)
    doc_id: str | None = None
    work: Work | None = None
    outcome: str = ""  # for "plan": added | updated
    failure: FileRejected | None = None
    file_done: bool = True  # the last item of its file (progress counts files)
    base: DocumentRecord | None = None  # for failures: what the registry row would hold


def infer_doc_type(rel: str) -> DocType:
    return "contract" if _CONTRACT_NAME.search(rel.lower()) else "doc"


def infer_title(elements: list[Element], hint: str | None, rel: str) -> str:
    if hint:
        return hint.strip()[:300]
    titles = [e for e in elements if e.kind == "title" and len(e.text) <= 150]
    if titles:
        top = min(e.level for e in titles)
        return next(e.text for e in titles if e.level == top)
    stem = rel.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    words = re.sub(r"[-_]+", " ", stem).strip()
    return words[:1].upper() + words[1:] if words else rel


def head_text(elements: list[Element]) -> str:
    """The text of the first elements, up to what identity detection reads."""
    out: list[str] = []
    size = 0
    for e in elements:
        out.append(e.text)
        size += len(e.text) + 1
        if size >= HEAD_CHARS:
            break
    return "\n".join(out)


def ticket_title(ticket: Ticket) -> str:
    """``Ticket 4711: Login fails · Acme Corp · 2026-03-02``: the customer and the date say
    which of many similar tickets this is."""
    parts = [f"Ticket {ticket.id}: {ticket.subject}", ticket.customer]
    if ticket.updated_at is not None:
        parts.append(datetime.fromtimestamp(ticket.updated_at, UTC).date().isoformat())
    return " · ".join(p for p in parts if p)


def base_record(doc: ParsedDocument, scope: str, origin: str) -> DocumentRecord:
    from ingest.registry import FAILED, now

    return DocumentRecord(
        doc_id=doc.doc_id,
        scope=scope,
        origin=origin,
        source=doc.source,
        title=doc.title[:500],
        doc_type=doc.doc_type,
        department=doc.department,
        owner=doc.owner,
        access=list(doc.access),
        content_hash="",
        meta_hash="",
        config_hash="",
        chunk_count=0,
        status=FAILED,
        error_code=None,
        last_error=None,
        ingested_at=None,
        updated_at=now(),
    )


class Preparer:
    def __init__(
        self,
        *,
        counter: EmbeddingTokenCounter,
        chunking: ChunkingConfig,
        config_hash: str,
        max_file_bytes: int,
        existing: Mapping[str, DocumentRecord],
        dry_run: bool,
    ) -> None:
        self.counter = counter
        self.chunking = chunking
        self.config_hash = config_hash
        self.max_file_bytes = max_file_bytes
        self.existing = existing
        self.dry_run = dry_run
        self._claimed: dict[str, str] = {}  # doc_id -> origin, to catch duplicates

    # Files -----------------------------------------------------------------------------------
    def files(self, source: Source) -> Iterator[Item]:
        for sf in source.files:
            yield from self._file(source.scope, sf)

    def _file(self, scope: str, sf: SourceFile) -> Iterator[Item]:
        doc_id = file_doc_id(scope, sf.rel)
        shell = ParsedDocument(
            doc_id=doc_id,
            title=sf.rel,
            doc_type=sf.meta.doc_type or infer_doc_type(sf.rel),
            access=sf.meta.access,
            department=sf.meta.department,
            owner=sf.meta.owner,
            tags=sf.meta.tags,
            language=sf.meta.language,
            source=sf.rel,
        )
        try:
            fd = read_file(sf.path, self.max_file_bytes)
            if is_ticket_export(fd, sf.meta.doc_type, sf.meta.encoding):
                tickets = parse_ticket_export(fd, sf.meta.encoding)
                yield from self._tickets(scope, sf, tickets)
                return
            content_hash = sha256_hex(fd.data)
            meta_hash = shell.meta_hash()
            planned = self._plan(doc_id, content_hash, meta_hash, sf.rel)
            if planned is not None:
                yield planned
                return
            parsed = parse_file(sf.path, fd, sf.meta.encoding, sf.meta.language)
            doc = replace(
                shell,
                title=identity_title(
                    infer_title(parsed.elements, parsed.title_hint, sf.rel),
                    sf.rel,
                    head_text(parsed.elements),
                    manifest_title=sf.meta.title,
                    manifest_facts=sf.meta.identity,
                ),
                elements=tuple(parsed.elements),
                updated_at=sf.path.stat().st_mtime,
            )
            yield self._work(doc, scope, sf.rel, content_hash, meta_hash, not sf.meta.access_set)
        except FileRejected as exc:
            yield Item("fail", sf.rel, doc_id, failure=exc, base=base_record(shell, scope, sf.rel))
        except Exception as exc:  # an unexpected parser failure is still just this file's
            rejected = FileRejected("parse_error", f"{type(exc).__name__}: {exc}")
            yield Item(
                "fail", sf.rel, doc_id, failure=rejected, base=base_record(shell, scope, sf.rel)
            )

    def _tickets(self, scope: str, sf: SourceFile, tickets: list[Ticket]) -> Iterator[Item]:
        for n, ticket in enumerate(tickets, start=1):
            doc = ticket_document(ticket, scope, sf)
            last = n == len(tickets)
            try:
                item = self._document(doc, scope, sf.rel, not sf.meta.access_set)
                yield replace(item, file_done=last)
            except FileRejected as exc:
                yield Item(
                    "fail",
                    sf.rel,
                    doc.doc_id,
                    failure=exc,
                    file_done=last,
                    base=base_record(doc, scope, sf.rel),
                )

    # Pre-parsed documents --------------------------------------------------------------------
    def documents(self, docs: Iterable[ParsedDocument], scope: str) -> Iterator[Item]:
        for doc in docs:
            try:
                yield self._document(doc, scope, doc.doc_id, False)
            except FileRejected as exc:
                yield Item(
                    "fail",
                    doc.doc_id,
                    doc.doc_id,
                    failure=exc,
                    base=base_record(doc, scope, doc.doc_id),
                )

    def _document(
        self, doc: ParsedDocument, scope: str, origin: str, public_by_default: bool
    ) -> Item:
        if not doc.doc_id.strip():
            raise FileRejected("parse_error", "a document without a doc_id")
        content_hash, meta_hash = doc.content_hash(), doc.meta_hash()
        planned = self._plan(doc.doc_id, content_hash, meta_hash, origin)
        if planned is not None:
            return planned
        return self._work(doc, scope, origin, content_hash, meta_hash, public_by_default)

    # Shared ----------------------------------------------------------------------------------
    def _plan(self, doc_id: str, content_hash: str, meta_hash: str, origin: str) -> Item | None:
        """An item when the document needs no parsing: unchanged, or a dry run's plan."""
        if doc_id in self._claimed:
            other = self._claimed[doc_id]
            raise FileRejected("duplicate_id", f"document id {doc_id} appears twice ({other})")
        self._claimed[doc_id] = origin
        record = self.existing.get(doc_id)
        if record is not None and record.unchanged(content_hash, meta_hash, self.config_hash):
            return Item("unchanged", origin, doc_id)
        if self.dry_run:
            return Item("plan", origin, doc_id, outcome="added" if record is None else "updated")
        return None

    def _work(
        self,
        doc: ParsedDocument,
        scope: str,
        origin: str,
        content_hash: str,
        meta_hash: str,
        public_by_default: bool,
    ) -> Item:
        try:
            chunks = chunk_document(doc, self.counter, self.chunking)
        except Exception as exc:  # a chunker bug must not stop the job
            raise FileRejected("chunk_error", f"{type(exc).__name__}: {exc}") from exc
        if not chunks:
            raise FileRejected("no_text", "no text to index in this document")
        record = self.existing.get(doc.doc_id)
        outcome: Literal["added", "updated"] = (
            "added" if record is None or not record.content_hash else "updated"
        )
        if doc.updated_at is None:
            doc = replace(doc, updated_at=time.time())
        work = Work(doc, scope, origin, content_hash, meta_hash, chunks, outcome, public_by_default)
        return Item("write", origin, doc.doc_id, work=work)


def ticket_document(ticket: Ticket, scope: str, sf: SourceFile) -> ParsedDocument:
    elements = tuple(
        Element(kind="message", text=m.text, author=m.author or None, time=m.time or None)
        for m in ticket.messages
    )
    meta = {
        k: v
        for k, v in (
            ("status", ticket.status),
            ("priority", ticket.priority),
            ("product", ticket.product),
            ("customer", ticket.customer),
            ("ticket_id", ticket.id),
        )
        if v
    }
    return ParsedDocument(
        doc_id=ticket_doc_id(scope, ticket.id),
        title=ticket_title(ticket),
        elements=elements,
        doc_type="ticket",
        access=sf.meta.access,
        department=sf.meta.department,
        owner=sf.meta.owner,
        tags=tuple(dict.fromkeys((*sf.meta.tags, *ticket.tags))),
        language=sf.meta.language,
        source=f"{sf.rel}#{ticket.id}",
        updated_at=ticket.updated_at,
        metadata=meta,
    )
