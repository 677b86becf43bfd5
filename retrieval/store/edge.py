"""The embedded store: Qdrant's own engine in-process (``qdrant-edge-py``), one shard per
collection under ``$LOREGATE_HOME/qdrant/<collection>``.

Segments, a write-ahead log (a killed process loses nothing it was told was written), HNSW
and payload indexes, like a Qdrant server. Filters run inside the engine's query, so the
permission filter is applied before ranking. ``optimize()`` flushes and builds the HNSW index
(ingestion calls it at the end of a job; below the indexing threshold it is instant).

A shard can be open in one process at a time (its WAL is locked). Inside a process, every
``EdgeStore`` for the same directory shares one open shard.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from retrieval import schema
from retrieval.store.base import (
    ChunkPoint,
    ScoredChunk,
    SearchFilter,
    SparseVector,
    StoreError,
)
from retrieval.store.conditions import AnyOf, Between, conditions, matches_nothing

HNSW_EF = 128
SCROLL_PAGE = 1000


class _Handle:
    """One open shard shared by every EdgeStore of a directory in this process."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.shard: Any = None
        self.users = 0
        self.write_lock = threading.Lock()


_HANDLES: dict[Path, _Handle] = {}
_HANDLES_LOCK = threading.Lock()


def _acquire(path: Path) -> _Handle:
    with _HANDLES_LOCK:
        handle = _HANDLES.get(path)
        if handle is None:
            handle = _HANDLES[path] = _Handle(path)
        handle.users += 1
        return handle


def _release(handle: _Handle) -> None:
    with _HANDLES_LOCK:
        handle.users -= 1
        if handle.users > 0:
            return
        _HANDLES.pop(handle.path, None)
        if handle.shard is not None:
            handle.shard.flush()
            handle.shard.close()
            handle.shard = None


def _exists(path: Path) -> bool:
    return (path / "edge_config.json").is_file() or (path / "segments").is_dir()


class EdgeStore:
    """``IndexStore`` on an embedded Qdrant edge shard."""

    def __init__(self, root: Path, collection: str) -> None:
        self.path = (Path(root) / collection).resolve()
        self.collection = collection
        self._handle = _acquire(self.path)
        self._closed = False

    @property
    def description(self) -> str:
        return f"embedded Qdrant (qdrant-edge) at {self.path}"

    # Opening ---------------------------------------------------------------------------------
    def _open(self, create_dim: int | None = None) -> Any:
        """The open shard; ``None`` when nothing was ever written and ``create_dim`` is None."""
        if self._closed:
            raise StoreError(f"the store at {self.path} is closed")
        handle = self._handle
        if handle.shard is not None:
            return handle.shard
        with handle.write_lock:
            if handle.shard is not None:
                return handle.shard
            from qdrant_edge import EdgeShard

            try:
                if _exists(self.path):
                    handle.shard = EdgeShard.load(str(self.path))
                elif create_dim is not None:
                    handle.shard = self._create(create_dim)
                else:
                    return None
            except StoreError:
                raise
            except Exception as exc:
                raise _open_error(self.path, exc) from exc
        return handle.shard

    def _create(self, dim: int) -> Any:
        from qdrant_edge import (
            Distance,
            EdgeConfig,
            EdgeShard,
            EdgeSparseVectorParams,
            EdgeVectorParams,
            HnswIndexConfig,
            Modifier,
            PayloadSchemaType,
            UpdateOperation,
        )

        self.path.mkdir(parents=True, exist_ok=True)
        config = EdgeConfig(
            vectors={schema.DENSE_VECTOR: EdgeVectorParams(size=dim, distance=Distance.Cosine)},
            sparse_vectors={schema.SPARSE_VECTOR: EdgeSparseVectorParams(modifier=Modifier.Idf)},
            hnsw_config=HnswIndexConfig(m=16, ef_construct=100, full_scan_threshold=10_000),
        )
        shard = EdgeShard.create(str(self.path), config)
        for name in schema.INDEXED_KEYWORD_FIELDS:
            shard.update(UpdateOperation.create_field_index(name, PayloadSchemaType.Keyword))
        for name in schema.INDEXED_FLOAT_FIELDS:
            shard.update(UpdateOperation.create_field_index(name, PayloadSchemaType.Float))
        shard.flush()
        return shard

    def ensure_collection(self, dense_dim: int) -> None:
        shard = self._open(create_dim=dense_dim)
        stored = _dense_dim(self.path)
        if stored is not None and stored != dense_dim:
            raise StoreError(
                f"collection {self.collection!r} holds {stored}-dimension vectors but the "
                f"embedder makes {dense_dim}: use another LOREGATE_COLLECTION for this model, "
                f"or delete {self.path} and ingest again"
            )
        assert shard is not None

    # Writing ---------------------------------------------------------------------------------
    def upsert(self, points: Sequence[ChunkPoint]) -> None:
        if not points:
            return
        from qdrant_edge import Point, UpdateOperation
        from qdrant_edge import SparseVector as EdgeSparse

        shard = self._open(create_dim=len(points[0].dense))
        batch = [
            Point(
                p.id,
                {
                    schema.DENSE_VECTOR: p.dense if type(p.dense) is list else list(p.dense),
                    schema.SPARSE_VECTOR: EdgeSparse(list(p.sparse.indices), list(p.sparse.values)),
                },
                _clean_payload(p.payload),
            )
            for p in points
        ]
        with self._handle.write_lock:
            shard.update(UpdateOperation.upsert_points(batch))

    def delete(self, ids: Sequence[str]) -> None:
        shard = self._open()
        if shard is None or not ids:
            return
        from qdrant_edge import UpdateOperation

        with self._handle.write_lock:
            shard.update(UpdateOperation.delete_points([str(i) for i in ids]))

    def optimize(self) -> None:
        shard = self._open()
        if shard is None:
            return
        with self._handle.write_lock:
            shard.optimize()
            shard.flush()

    # Reading ---------------------------------------------------------------------------------
    def ids_for_doc(self, doc_id: str) -> list[str]:
        from qdrant_edge import FieldCondition, Filter, MatchValue

        flt = Filter(must=[FieldCondition(schema.DOC_ID, match=MatchValue(doc_id))])
        return [str(r.id) for r in self._scroll(flt, with_payload=False)]

    def chunks_of_doc(self, doc_id: str, flt: SearchFilter) -> list[ScoredChunk]:
        if matches_nothing(flt):
            return []
        from qdrant_edge import FieldCondition, MatchValue

        edge_flt = _edge_filter(
            flt, extra=[FieldCondition(schema.DOC_ID, match=MatchValue(doc_id))]
        )
        chunks = [
            ScoredChunk(id=str(r.id), score=0.0, payload=dict(r.payload or {}))
            for r in self._scroll(edge_flt, with_payload=True)
        ]
        return sorted(chunks, key=lambda c: int(c.payload.get(schema.CHUNK_INDEX, 0)))

    def _scroll(self, flt: Any, *, with_payload: bool) -> list[Any]:
        shard = self._open()
        if shard is None:
            return []
        from qdrant_edge import ScrollRequest

        out: list[Any] = []
        offset: Any = None
        while True:
            records, offset = shard.scroll(
                ScrollRequest(
                    offset=offset, limit=SCROLL_PAGE, filter=flt, with_payload=with_payload
                )
            )
            out.extend(records)
            if offset is None or not records:
                return out

    def retrieve(self, ids: Sequence[str]) -> list[ScoredChunk]:
        shard = self._open()
        if shard is None or not ids:
            return []
        records = {str(r.id): r for r in shard.retrieve([str(i) for i in ids], True, False)}
        return [
            ScoredChunk(id=i, score=0.0, payload=dict(records[i].payload or {}))
            for i in (_norm_id(x) for x in ids)
            if i in records
        ]

    def search_dense(
        self, vector: Sequence[float], flt: SearchFilter, limit: int
    ) -> list[ScoredChunk]:
        from qdrant_edge import Query

        return self._query(
            Query.Nearest([float(x) for x in vector], using=schema.DENSE_VECTOR), flt, limit
        )

    def search_sparse(
        self, vector: SparseVector, flt: SearchFilter, limit: int
    ) -> list[ScoredChunk]:
        if not vector.indices:
            return []
        from qdrant_edge import Query
        from qdrant_edge import SparseVector as EdgeSparse

        query = Query.Nearest(
            EdgeSparse(list(vector.indices), list(vector.values)), using=schema.SPARSE_VECTOR
        )
        return self._query(query, flt, limit)

    def _query(self, query: Any, flt: SearchFilter, limit: int) -> list[ScoredChunk]:
        if matches_nothing(flt) or limit < 1:
            return []
        shard = self._open()
        if shard is None:
            return []
        from qdrant_edge import QueryRequest, SearchParams

        points = shard.query(
            QueryRequest(
                limit=limit,
                query=query,
                filter=_edge_filter(flt),
                with_payload=True,
                params=SearchParams(hnsw_ef=HNSW_EF),
            )
        )
        return [
            ScoredChunk(id=str(p.id), score=float(p.score), payload=dict(p.payload or {}))
            for p in points
        ]

    def count(self, flt: SearchFilter | None = None) -> int:
        if flt is not None and matches_nothing(flt):
            return 0
        shard = self._open()
        if shard is None:
            return 0
        from qdrant_edge import CountRequest

        return int(shard.count(CountRequest(exact=True, filter=_edge_filter(flt) if flt else None)))

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            _release(self._handle)


def _edge_filter(flt: SearchFilter, extra: list[Any] | None = None) -> Any:
    from qdrant_edge import FieldCondition, Filter, MatchAny, RangeFloat

    must: list[Any] = []
    for cond in conditions(flt):
        if isinstance(cond, AnyOf):
            must.append(FieldCondition(cond.key, match=MatchAny(list(cond.values))))
        elif isinstance(cond, Between):
            must.append(FieldCondition(cond.key, range=RangeFloat(gte=cond.gte, lte=cond.lte)))
    must.extend(extra or [])
    return Filter(must=must)


def _clean_payload(payload: dict[str, Any]) -> dict[str, Any]:
    return {
        k: (list(v) if isinstance(v, tuple) else v) for k, v in payload.items() if v is not None
    }


def _norm_id(value: str) -> str:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        return str(value)


def _dense_dim(path: Path) -> int | None:
    import json

    try:
        cfg = json.loads((path / "edge_config.json").read_text())
        return int(cfg["vectors"][schema.DENSE_VECTOR]["size"])
    except (OSError, KeyError, ValueError, TypeError):
        return None


def _open_error(path: Path, exc: Exception) -> StoreError:
    text = str(exc)
    if "WouldBlock" in text or "lock" in text.lower():
        return StoreError(
            f"the embedded Qdrant store at {path} is open in another process (a running "
            "`loregate serve`?). Stop it, or ingest through its API (POST /v1/ingest/jobs), "
            "or use a Qdrant server (LOREGATE_QDRANT_URL)"
        )
    return StoreError(f"cannot open the embedded Qdrant store at {path}: {text}")
