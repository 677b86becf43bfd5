"""Wiring of the vector store, the embedder and the sparse encoder (shared by retrieval,
ingestion and evals): each is built once per container, on first use.

Building any of them is cheap: the embedding model loads on its first embedding, and the
store opens on its first query.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from retrieval.embedder import Embedder
from retrieval.sparse import SparseEncoder
from retrieval.store.base import IndexStore
from retrieval.store.factory import build_store

if TYPE_CHECKING:
    from loregate.container import Container


def store(container: Container) -> IndexStore:
    """The store of the configured collection (``LOREGATE_COLLECTION``)."""
    return store_for(container, container.settings.collection)


def store_for(container: Container, collection: str) -> IndexStore:
    """The store of any collection (evals keep their corpora in their own collections)."""

    def build(c: Container) -> IndexStore:
        s = c.settings
        built = build_store(
            url=s.qdrant_url, path=s.qdrant_path, collection=collection, api_key=s.qdrant_api_key
        )
        c.on_close(built.close)
        return built

    built: IndexStore = container.part(f"store:{collection}", build)
    return built


def embedder(container: Container) -> Embedder:
    built: Embedder = container.part("embedder", lambda c: Embedder(c.settings.embedding_model))
    return built


def sparse(container: Container) -> SparseEncoder:
    built: SparseEncoder = container.part("sparse", lambda c: SparseEncoder())
    return built
