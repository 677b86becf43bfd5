"""Ingestion fixtures: a migrated SQLite database, a store and an ingestor with the fake
embedder (fast, deterministic). Tests that need the real model share one session fixture."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from ingest.pipeline import Ingestor
from loregate.database import make_engine, migrate
from retrieval.embedder import Embedder
from retrieval.sparse import SparseEncoder
from retrieval.store.base import IndexStore
from retrieval.store.factory import build_store
from testkit.embedders import FakeEmbedder
from tests.ingest.helpers import CountingStore


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    e = make_engine(f"sqlite:///{tmp_path / 'loregate.db'}")
    migrate(e)
    yield e
    e.dispose()


MakeIngestor = Callable[..., tuple[Ingestor, CountingStore]]


@pytest.fixture
def make_ingestor(engine: Engine, tmp_path: Path) -> Iterator[MakeIngestor]:
    stores: list[IndexStore] = []

    def make(
        *, backend: str = "edge", collection: str = "test", embedder: Any = None, **kw: Any
    ) -> tuple[Ingestor, CountingStore]:
        inner = build_store(
            url=":memory:" if backend == "memory" else None,
            path=tmp_path / "qdrant",
            collection=collection,
            api_key=None,
        )
        stores.append(inner)
        store = CountingStore(inner)
        ingestor = Ingestor(
            engine=engine,
            store=store,  # type: ignore[arg-type]
            embedder=embedder or FakeEmbedder(),
            sparse=SparseEncoder(),
            collection=collection,
            **kw,
        )
        return ingestor, store

    yield make
    for s in stores:
        s.close()


@pytest.fixture(scope="session")
def real_embedder() -> Embedder:
    """The real all-MiniLM-L6-v2 (the model is cached per process: loaded once)."""
    return Embedder()
