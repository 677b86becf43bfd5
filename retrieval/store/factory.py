"""Build the configured store: Qdrant server by URL, else the embedded engine on disk."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from retrieval.store.base import IndexStore

if TYPE_CHECKING:
    from retrieval.store.server import QdrantCluster


def build_store(
    *,
    url: str | None,
    path: Path,
    collection: str,
    api_key: str | None = None,
    cluster: QdrantCluster | None = None,
) -> IndexStore:
    """A store for ``collection``: ``url`` set -> Qdrant server or cluster (qdrant-client);
    ``url`` is ``":memory:"`` -> qdrant-client's in-memory mode (tests); otherwise the embedded
    qdrant-edge shard under ``path / collection``.

    Nothing is opened or created until first use; ``ensure_collection`` creates the collection.
    """
    if url == ":memory:":
        from retrieval.store.server import ServerStore

        return ServerStore(collection, location=":memory:")
    if url:
        from retrieval.store.server import ServerStore

        return ServerStore(collection, url=url, api_key=api_key, cluster=cluster)
    from retrieval.store.edge import EdgeStore

    return EdgeStore(Path(path), collection)
