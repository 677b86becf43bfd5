"""The document registry (what is in the index, and from which content) and job records.

One row per document and collection: content hash, metadata hash, chunker/embedder config
hash, chunk count, status (``ok`` or ``failed``) and the last error. A row is written only
after the document's points are in the store, so a killed job never records work it did
not finish. A failed document keeps its last good hashes (and its points): the next run
tries it again.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine

metadata = sa.MetaData()

documents = sa.Table(
    "ingest_documents",
    metadata,
    sa.Column("collection", sa.String(200), primary_key=True),
    sa.Column("doc_id", sa.String(512), primary_key=True),
    sa.Column("scope", sa.String(200), nullable=False),
    sa.Column("origin", sa.String(1000), nullable=False),
    sa.Column("source", sa.String(1000), nullable=False),
    sa.Column("title", sa.String(500), nullable=False),
    sa.Column("doc_type", sa.String(16), nullable=False),
    sa.Column("department", sa.String(200), nullable=False),
    sa.Column("owner", sa.String(200), nullable=False),
    sa.Column("access", sa.JSON(), nullable=False),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("meta_hash", sa.String(64), nullable=False),
    sa.Column("config_hash", sa.String(32), nullable=False),
    sa.Column("chunk_count", sa.Integer(), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("error_code", sa.String(64), nullable=True),
    sa.Column("last_error", sa.Text(), nullable=True),
    sa.Column("ingested_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

jobs = sa.Table(
    "ingest_jobs",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("collection", sa.String(200), nullable=False),
    sa.Column("scope", sa.String(200), nullable=True),
    sa.Column("request", sa.JSON(), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("total_files", sa.Integer(), nullable=False),
    sa.Column("done_files", sa.Integer(), nullable=False),
    sa.Column("chunks", sa.Integer(), nullable=False),
    sa.Column("counts", sa.JSON(), nullable=False),
    sa.Column("errors", sa.JSON(), nullable=False),
    sa.Column("error", sa.Text(), nullable=True),
    sa.Column("index_version", sa.String(64), nullable=True),
    sa.Column("created_by", sa.String(200), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
)

OK = "ok"
FAILED = "failed"


def now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class DocumentRecord:
    doc_id: str
    scope: str
    origin: str
    source: str
    title: str
    doc_type: str
    department: str
    owner: str
    access: list[str]
    content_hash: str
    meta_hash: str
    config_hash: str
    chunk_count: int
    status: str
    error_code: str | None
    last_error: str | None
    ingested_at: datetime | None
    updated_at: datetime

    def unchanged(self, content_hash: str, meta_hash: str, config_hash: str) -> bool:
        return (
            self.status == OK
            and self.content_hash == content_hash
            and self.meta_hash == meta_hash
            and self.config_hash == config_hash
        )

    def as_json(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        for key in ("ingested_at", "updated_at"):
            value = out[key]
            out[key] = value.isoformat() if value is not None else None
        return out


def _record(row: Any) -> DocumentRecord:
    data = dict(row._mapping)
    data.pop("collection", None)
    return DocumentRecord(**data)


class Registry:
    def __init__(self, engine: Engine, collection: str) -> None:
        self.engine = engine
        self.collection = collection

    def get(self, doc_id: str) -> DocumentRecord | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(documents).where(
                    documents.c.collection == self.collection, documents.c.doc_id == doc_id
                )
            ).first()
        return _record(row) if row is not None else None

    def get_many(self, doc_ids: Iterable[str]) -> dict[str, DocumentRecord]:
        ids = list(doc_ids)
        out: dict[str, DocumentRecord] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(ids), 500):
                rows = conn.execute(
                    sa.select(documents).where(
                        documents.c.collection == self.collection,
                        documents.c.doc_id.in_(ids[start : start + 500]),
                    )
                )
                out.update({r.doc_id: _record(r) for r in rows})
        return out

    def list(self, scope: str | None = None) -> list[DocumentRecord]:
        q = sa.select(documents).where(documents.c.collection == self.collection)
        if scope is not None:
            q = q.where(documents.c.scope == scope)
        with self.engine.connect() as conn:
            return [_record(r) for r in conn.execute(q.order_by(documents.c.doc_id))]

    def of_origins(self, scope: str, origins: Iterable[str]) -> builtins.list[DocumentRecord]:
        """The rows of ``scope`` that came from these files (a ticket export's tickets too)."""
        q = sa.select(documents).where(
            documents.c.collection == self.collection,
            documents.c.scope == scope,
            documents.c.origin.in_(list(origins)),
        )
        with self.engine.connect() as conn:
            return [_record(r) for r in conn.execute(q)]

    def save_ok(self, record: DocumentRecord) -> None:
        self.save_many([record])

    def save_many(self, records: Iterable[DocumentRecord]) -> None:
        """Insert or replace rows, in one transaction."""
        rows = [{**r.__dict__, "collection": self.collection} for r in records]
        if not rows:
            return
        with self.engine.begin() as conn:
            conn.execute(
                documents.delete().where(
                    documents.c.collection == self.collection,
                    documents.c.doc_id.in_([r["doc_id"] for r in rows]),
                )
            )
            conn.execute(documents.insert(), rows)

    def save_failed(self, base: DocumentRecord, code: str, message: str) -> None:
        """Record a failure. An existing row keeps its hashes (its points stay searchable)."""
        existing = self.get(base.doc_id)
        if existing is None:
            record = DocumentRecord(
                **{
                    **base.__dict__,
                    "content_hash": "",
                    "meta_hash": "",
                    "config_hash": "",
                    "chunk_count": 0,
                    "status": FAILED,
                    "error_code": code,
                    "last_error": message,
                    "ingested_at": None,
                    "updated_at": now(),
                }
            )
            self.save_ok(record)
            return
        with self.engine.begin() as conn:
            conn.execute(
                documents.update()
                .where(documents.c.collection == self.collection, documents.c.doc_id == base.doc_id)
                .values(status=FAILED, error_code=code, last_error=message, updated_at=now())
            )

    def delete(self, doc_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                documents.delete().where(
                    documents.c.collection == self.collection, documents.c.doc_id == doc_id
                )
            )
