"""What only the embedded store has: a directory on disk, a WAL, one process at a time."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from retrieval.store.base import SearchFilter, StoreError
from retrieval.store.edge import EdgeStore
from tests.retrieval.store.test_store_contract import point


def test_points_survive_close_and_reopen(tmp_path: Path) -> None:
    s = EdgeStore(tmp_path, "c")
    s.ensure_collection(4)
    s.upsert([point("a", i, [1, i, 0, 0], ["public"]) for i in range(3)])
    s.close()
    reopened = EdgeStore(tmp_path, "c")
    assert reopened.count() == 3
    assert len(reopened.ids_for_doc("a")) == 3
    reopened.close()
    with pytest.raises(StoreError, match="closed"):
        s.count()


def test_stores_of_one_directory_share_the_open_shard(tmp_path: Path) -> None:
    first, second = EdgeStore(tmp_path, "c"), EdgeStore(tmp_path, "c")
    first.ensure_collection(4)
    first.upsert([point("a", 0, [1, 0, 0, 0], ["public"])])
    assert second.count(SearchFilter(("public",))) == 1
    first.close()
    assert second.count() == 1  # still open for the other user
    second.close()


def test_collections_are_separate_directories(tmp_path: Path) -> None:
    a, b = EdgeStore(tmp_path, "a"), EdgeStore(tmp_path, "b")
    a.ensure_collection(4)
    a.upsert([point("x", 0, [1, 0, 0, 0], ["public"])])
    assert (a.count(), b.count()) == (1, 0)
    assert (tmp_path / "a" / "edge_config.json").is_file()
    a.close()
    b.close()


def test_a_second_process_gets_a_clear_error(tmp_path: Path) -> None:
    s = EdgeStore(tmp_path, "c")
    s.ensure_collection(4)
    code = (
        "import sys; from pathlib import Path; from retrieval.store.edge import EdgeStore\n"
        "try:\n    EdgeStore(Path(sys.argv[1]), 'c').count()\n"
        "except Exception as e:\n    print(type(e).__name__, e)\n"
    )
    root = Path(__file__).resolve().parents[3]
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=root,
        timeout=60,
        check=True,
    ).stdout
    assert out.startswith("StoreError")
    assert "open in another process" in out and "LOREGATE_QDRANT_URL" in out
    s.close()
