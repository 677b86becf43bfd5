"""Store fixtures: every contract test runs on both backends."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from retrieval.store.base import IndexStore
from retrieval.store.factory import build_store

BACKENDS = ("edge", "memory")


def make_store(backend: str, root: Path, collection: str = "contract") -> IndexStore:
    url = ":memory:" if backend == "memory" else None
    return build_store(url=url, path=root, collection=collection, api_key=None)


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[IndexStore]:
    s = make_store(request.param, tmp_path)
    yield s
    s.close()
