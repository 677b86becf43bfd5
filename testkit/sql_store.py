"""A vector store in a SQL table, shared by several processes: for multi-process tests of
ingestion (several queue workers writing one collection) on machines with no Qdrant server.

Points are rows keyed by id (an upsert replaces the row: writing a point twice never makes
two), with the document id in its own column; dense search is brute force, sparse search
finds nothing. It is a test double of the Qdrant server's semantics that matter to writers,
not a store to search in production.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np
import sqlalchemy as sa
from sqlalchemy import Engine

from retrieval import schema
from retrieval.store.base import ChunkPoint, ScoredChunk, SearchFilter, SparseVector


class SqlChunkStore:
    def __init__(self, engine: Engine, table: str = "testkit_chunks") -> None:
        self.engine = engine
        self.table = sa.Table(
            table,
            sa.MetaData(),
            sa.Column("id", sa.String(64), primary_key=True),
            sa.Column("doc_id", sa.String(512), nullable=False, index=True),
            sa.Column("dense", sa.Text(), nullable=False),
            sa.Column("payload", sa.Text(), nullable=False),
        )
        self.table.metadata.create_all(engine, checkfirst=True)

    @property
    def description(self) -> str:
        return f"SQL table {self.table.name} (test store)"

    def ensure_collection(self, dense_dim: int) -> None:
        pass

    def upsert(self, points: Sequence[ChunkPoint]) -> None:
        if not points:
            return
        t = self.table
        rows = [
            {
                "id": p.id,
                "doc_id": str(p.payload[schema.DOC_ID]),
                "dense": json.dumps(p.dense),
                "payload": json.dumps(p.payload),
            }
            for p in points
        ]
        with self.engine.begin() as conn:
            conn.execute(t.delete().where(t.c.id.in_([r["id"] for r in rows])))
            conn.execute(t.insert(), rows)

    def delete(self, ids: Sequence[str]) -> None:
        if ids:
            with self.engine.begin() as conn:
                conn.execute(self.table.delete().where(self.table.c.id.in_(list(ids))))

    def ids_for_doc(self, doc_id: str) -> list[str]:
        t = self.table
        with self.engine.connect() as conn:
            return list(conn.execute(sa.select(t.c.id).where(t.c.doc_id == doc_id)).scalars())

    def doc_chunk_counts(self) -> dict[str, int]:
        """Document id -> points stored (what the multi-worker tests check)."""
        t = self.table
        with self.engine.connect() as conn:
            q = sa.select(t.c.doc_id, sa.func.count()).group_by(t.c.doc_id)
            return {d: int(n) for d, n in conn.execute(q)}

    def _rows(self, where: sa.ColumnElement[bool] | None = None) -> list[ScoredChunk]:
        t = self.table
        q = sa.select(t.c.id, t.c.payload)
        if where is not None:
            q = q.where(where)
        with self.engine.connect() as conn:
            return [ScoredChunk(i, 0.0, json.loads(p)) for i, p in conn.execute(q)]

    def search_dense(
        self, vector: Sequence[float], flt: SearchFilter, limit: int
    ) -> list[ScoredChunk]:
        t = self.table
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(t.c.id, t.c.dense, t.c.payload)).all()
        allowed = set(flt.access_tokens)
        query = np.asarray(vector, dtype=np.float32)
        scored = [
            ScoredChunk(i, float(np.dot(query, np.asarray(json.loads(d)))), json.loads(p))
            for i, d, p in rows
        ]
        scored = [s for s in scored if allowed & set(s.payload.get(schema.ACCESS, []))]
        return sorted(scored, key=lambda s: -s.score)[:limit]

    def search_sparse(
        self, vector: SparseVector, flt: SearchFilter, limit: int
    ) -> list[ScoredChunk]:
        return []

    def count(self, flt: SearchFilter | None = None) -> int:
        with self.engine.connect() as conn:
            q = sa.select(sa.func.count()).select_from(self.table)
            return int(conn.execute(q).scalar_one())

    def retrieve(self, ids: Sequence[str]) -> list[ScoredChunk]:
        found = {c.id: c for c in self._rows(self.table.c.id.in_(list(ids)))}
        return [found[i] for i in ids if i in found]

    def chunks_of_doc(self, doc_id: str, flt: SearchFilter) -> list[ScoredChunk]:
        rows = self._rows(self.table.c.doc_id == doc_id)
        return sorted(rows, key=lambda c: int(c.payload.get(schema.CHUNK_INDEX, 0)))

    def optimize(self) -> None:
        pass

    def close(self) -> None:
        pass
