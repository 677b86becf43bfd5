"""The server store: a Qdrant server or cluster by URL, through ``qdrant-client``.

Same schema as the embedded store: named dense (cosine) and sparse (IDF modifier) vectors and
the same payload indexes; filters run inside Qdrant's query, before ranking. Tested on
qdrant-client's ``:memory:`` mode, which speaks the same client API (``location=":memory:"``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from retrieval import schema
from retrieval.store.base import (
    ChunkPoint,
    ScoredChunk,
    SearchFilter,
    SparseVector,
    StoreError,
)
from retrieval.store.conditions import AnyOf, Between, conditions, matches_nothing

if TYPE_CHECKING:
    from qdrant_client import QdrantClient
    from qdrant_client.http import models

HNSW_EF = 128
SCROLL_PAGE = 1000
UPSERT_BATCH = 256


@dataclass(frozen=True)
class QdrantCluster:
    """How a collection is laid out on a Qdrant cluster, applied when loregate creates it
    (``LOREGATE_QDRANT_SHARDS``, ``_REPLICATION``, ``_WRITE_CONSISTENCY``, ``_TENANT_KEY``);
    ``None``: the server's default. Changing them later needs Qdrant's own resharding."""

    shards: int | None = None
    replication: int | None = None
    write_consistency: int | None = None
    tenant_key: str | None = None  # a payload key indexed with is_tenant (e.g. department)


class ServerStore:
    """``IndexStore`` on a Qdrant server (or qdrant-client's local modes)."""

    def __init__(
        self,
        collection: str,
        *,
        url: str | None = None,
        api_key: str | None = None,
        location: str | None = None,
        client: QdrantClient | None = None,
        timeout: float = 30.0,
        cluster: QdrantCluster | None = None,
    ) -> None:
        from qdrant_client import QdrantClient

        self.collection = collection
        self.cluster = cluster or QdrantCluster()
        self._where = url or location or "client"
        if client is not None:
            self.client = client
        elif url is not None:
            # No version probe in a background thread at construction: the store is built at
            # start-up, when the server may still be down (``/readyz`` reports that).
            self.client = QdrantClient(
                url=url, api_key=api_key, timeout=int(timeout), check_compatibility=False
            )
        else:
            self.client = QdrantClient(location=location or ":memory:")
        self._ready = False
        # qdrant-client's local mode is brute force: it warns about payload indexes and search
        # params it ignores, so neither is sent to it.
        from qdrant_client.local.qdrant_local import QdrantLocal

        self._local = isinstance(getattr(self.client, "_client", None), QdrantLocal)

    @property
    def description(self) -> str:
        return f"Qdrant at {self._where}, collection {self.collection!r}"

    def _exists(self) -> bool:
        if self._ready:
            return True
        try:
            self._ready = bool(self.client.collection_exists(self.collection))
        except Exception as exc:  # connection failures of every kind
            raise StoreError(f"cannot reach Qdrant at {self._where}: {exc}") from exc
        return self._ready

    def ensure_collection(self, dense_dim: int) -> None:
        from qdrant_client.http import models

        if self._exists():
            info = self.client.get_collection(self.collection)
            vectors = info.config.params.vectors
            stored = vectors.get(schema.DENSE_VECTOR) if isinstance(vectors, dict) else None
            if stored is not None and stored.size != dense_dim:
                raise StoreError(
                    f"collection {self.collection!r} holds {stored.size}-dimension vectors but "
                    f"the embedder makes {dense_dim}: use another LOREGATE_COLLECTION"
                )
            return
        self.client.create_collection(
            self.collection,
            vectors_config={
                schema.DENSE_VECTOR: models.VectorParams(
                    size=dense_dim, distance=models.Distance.COSINE
                )
            },
            sparse_vectors_config={
                schema.SPARSE_VECTOR: models.SparseVectorParams(modifier=models.Modifier.IDF)
            },
            shard_number=self.cluster.shards,
            replication_factor=self.cluster.replication,
            write_consistency_factor=self.cluster.write_consistency,
        )
        self._ready = True
        if self._local:
            return
        tenant = self.cluster.tenant_key
        for name in schema.INDEXED_KEYWORD_FIELDS:
            if name != tenant:
                self.client.create_payload_index(
                    self.collection, name, models.PayloadSchemaType.KEYWORD
                )
        if tenant:  # co-locates each tenant's points: filtered searches read one tenant's
            self.client.create_payload_index(
                self.collection,
                tenant,
                models.KeywordIndexParams(type=models.KeywordIndexType.KEYWORD, is_tenant=True),
            )
        for name in schema.INDEXED_FLOAT_FIELDS:
            self.client.create_payload_index(self.collection, name, models.PayloadSchemaType.FLOAT)

    # Writing ---------------------------------------------------------------------------------
    def upsert(self, points: Sequence[ChunkPoint]) -> None:
        if not points:
            return
        from qdrant_client.http import models

        if not self._exists():
            self.ensure_collection(len(points[0].dense))
        for start in range(0, len(points), UPSERT_BATCH):
            batch = [
                models.PointStruct(
                    id=p.id,
                    vector={
                        schema.DENSE_VECTOR: [float(x) for x in p.dense],
                        schema.SPARSE_VECTOR: models.SparseVector(
                            indices=list(p.sparse.indices), values=list(p.sparse.values)
                        ),
                    },
                    payload={k: v for k, v in p.payload.items() if v is not None},
                )
                for p in points[start : start + UPSERT_BATCH]
            ]
            self.client.upsert(self.collection, points=batch, wait=True)

    def delete(self, ids: Sequence[str]) -> None:
        if not ids or not self._exists():
            return
        from qdrant_client.http import models

        self.client.delete(
            self.collection, points_selector=models.PointIdsList(points=list(ids)), wait=True
        )

    def optimize(self) -> None:
        """The server indexes on its own."""

    # Reading ---------------------------------------------------------------------------------
    def ids_for_doc(self, doc_id: str) -> list[str]:
        from qdrant_client.http import models

        flt = models.Filter(
            must=[models.FieldCondition(key=schema.DOC_ID, match=models.MatchValue(value=doc_id))]
        )
        return [str(r.id) for r in self._scroll(flt, with_payload=False)]

    def chunks_of_doc(self, doc_id: str, flt: SearchFilter) -> list[ScoredChunk]:
        if matches_nothing(flt):
            return []
        from qdrant_client.http import models

        doc = models.FieldCondition(key=schema.DOC_ID, match=models.MatchValue(value=doc_id))
        chunks = [
            ScoredChunk(id=str(r.id), score=0.0, payload=dict(r.payload or {}))
            for r in self._scroll(_filter(flt, extra=[doc]), with_payload=True)
        ]
        return sorted(chunks, key=lambda c: int(c.payload.get(schema.CHUNK_INDEX, 0)))

    def _scroll(self, flt: models.Filter, *, with_payload: bool) -> list[Any]:
        if not self._exists():
            return []
        out: list[Any] = []
        offset: Any = None
        while True:
            records, offset = self.client.scroll(
                self.collection,
                scroll_filter=flt,
                limit=SCROLL_PAGE,
                offset=offset,
                with_payload=with_payload,
                with_vectors=False,
            )
            out.extend(records)
            if offset is None or not records:
                return out

    def retrieve(self, ids: Sequence[str]) -> list[ScoredChunk]:
        if not ids or not self._exists():
            return []
        records = {
            str(r.id): r
            for r in self.client.retrieve(self.collection, ids=list(ids), with_payload=True)
        }
        return [
            ScoredChunk(id=str(i), score=0.0, payload=dict(records[str(i)].payload or {}))
            for i in ids
            if str(i) in records
        ]

    def search_dense(
        self, vector: Sequence[float], flt: SearchFilter, limit: int
    ) -> list[ScoredChunk]:
        return self._query([float(x) for x in vector], schema.DENSE_VECTOR, flt, limit)

    def search_sparse(
        self, vector: SparseVector, flt: SearchFilter, limit: int
    ) -> list[ScoredChunk]:
        if not vector.indices:
            return []
        from qdrant_client.http import models

        query = models.SparseVector(indices=list(vector.indices), values=list(vector.values))
        return self._query(query, schema.SPARSE_VECTOR, flt, limit)

    def _query(self, query: Any, using: str, flt: SearchFilter, limit: int) -> list[ScoredChunk]:
        if matches_nothing(flt) or limit < 1 or not self._exists():
            return []
        from qdrant_client.http import models

        response = self.client.query_points(
            self.collection,
            query=query,
            using=using,
            query_filter=_filter(flt),
            search_params=None if self._local else models.SearchParams(hnsw_ef=HNSW_EF),
            limit=limit,
            with_payload=True,
        )
        return [
            ScoredChunk(id=str(p.id), score=float(p.score), payload=dict(p.payload or {}))
            for p in response.points
        ]

    def count(self, flt: SearchFilter | None = None) -> int:
        if (flt is not None and matches_nothing(flt)) or not self._exists():
            return 0
        result = self.client.count(
            self.collection, count_filter=_filter(flt) if flt else None, exact=True
        )
        return int(result.count)

    def close(self) -> None:
        self.client.close()


def _filter(flt: SearchFilter, extra: list[Any] | None = None) -> models.Filter:
    from qdrant_client.http import models

    must: list[Any] = []
    for cond in conditions(flt):
        if isinstance(cond, AnyOf):
            must.append(
                models.FieldCondition(key=cond.key, match=models.MatchAny(any=list(cond.values)))
            )
        elif isinstance(cond, Between):
            must.append(
                models.FieldCondition(key=cond.key, range=models.Range(gte=cond.gte, lte=cond.lte))
            )
    must.extend(extra or [])
    return models.Filter(must=must)
