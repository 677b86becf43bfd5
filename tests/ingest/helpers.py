"""Helpers shared by the ingestion tests."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from retrieval.store.base import ChunkPoint, IndexStore, SearchFilter

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "demo"
EVERYONE = SearchFilter(
    ("public", "dept:legal", "group:legal", "dept:hr", "dept:support", "group:support")
)


class CountingStore:
    """Wraps a store and counts writes (tests assert "zero writes"); can crash on demand."""

    def __init__(self, inner: IndexStore) -> None:
        self.inner = inner
        self.upserted = 0
        self.deleted = 0
        self.crash_after_upserts: int | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def upsert(self, points: Sequence[ChunkPoint]) -> None:
        if self.crash_after_upserts is not None and self.upserted >= self.crash_after_upserts:
            raise KeyboardInterrupt("simulated kill")
        self.inner.upsert(points)
        self.upserted += len(points)

    def delete(self, ids: Sequence[str]) -> None:
        self.inner.delete(ids)
        self.deleted += len(ids)

    def writes(self) -> int:
        return self.upserted + self.deleted


def write(root: Path, rel: str, content: str | bytes) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path
