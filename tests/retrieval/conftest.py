"""Retrieval fixtures (helpers live in helpers.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from retrieval.sparse import SparseEncoder
from retrieval.store.base import IndexStore
from testkit.embedders import FakeEmbedder
from tests.retrieval.helpers import CORPUS, make_store, points

BACKENDS = ("edge", "memory")


@pytest.fixture(scope="session")
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder(dim=64)


@pytest.fixture(scope="session")
def sparse_encoder() -> SparseEncoder:
    return SparseEncoder()


@pytest.fixture(params=BACKENDS)
def corpus_store(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    fake_embedder: FakeEmbedder,
    sparse_encoder: SparseEncoder,
) -> Iterator[IndexStore]:
    store = make_store(request.param, tmp_path)
    store.ensure_collection(fake_embedder.dim)
    store.upsert(points(CORPUS, fake_embedder, sparse_encoder))
    store.optimize()
    yield store
    store.close()


@pytest.fixture
def engine(tmp_path: Path) -> Any:
    from loregate.database import make_engine, migrate

    eng = make_engine(f"sqlite:///{tmp_path / 'rt.db'}")
    migrate(eng)
    yield eng
    eng.dispose()
