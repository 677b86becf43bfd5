"""A job killed with SIGKILL in the middle of a run, then run again: nothing lost, nothing
duplicated (a real process kill: the embedded store's WAL and SQLite must both recover)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from ingest.pipeline import Ingestor
from loregate.database import make_engine, migrate
from retrieval.sparse import SparseEncoder
from retrieval.store.factory import build_store
from testkit.embedders import FakeEmbedder
from tests.ingest.helpers import write

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]

CHILD = """
import sys, time
from pathlib import Path
from loregate.offline import configure_offline
configure_offline()
from ingest.pipeline import Ingestor
from loregate.database import make_engine, migrate
from testkit.embedders import FakeEmbedder
from retrieval.sparse import SparseEncoder
from retrieval.store.factory import build_store

class SlowEmbedder(FakeEmbedder):
    def embed_documents(self, texts):
        time.sleep(0.3)  # slow enough to be killed mid-run
        return super().embed_documents(texts)

home = Path(sys.argv[1])
engine = make_engine(f"sqlite:///{home / 'db.sqlite'}")
migrate(engine)
store = build_store(url=None, path=home / "qdrant", collection="c")
ing = Ingestor(engine=engine, store=store, embedder=SlowEmbedder(), sparse=SparseEncoder(),
               collection="c", flush_chunks=2)
ing.ingest_path([home / "src"])
print("FINISHED")
"""


def registry_rows(db: Path) -> int:
    if not db.exists():
        return 0
    engine = sa.create_engine(f"sqlite:///{db}")
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text("SELECT count(*) FROM ingest_documents")).scalar_one())
    except sa.exc.OperationalError:
        return 0
    finally:
        engine.dispose()


def test_sigkill_mid_run_then_rerun(tmp_path: Path) -> None:
    for i in range(16):
        body = "\n\n".join(
            f"Paragraph {j} of document {i}. " + "Refunds take ten days. " * 8 for j in range(3)
        )
        write(tmp_path / "src", f"doc{i:02}.md", f"# Doc {i}\n\n{body}")
    log = tmp_path / "child.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(tmp_path)],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 120
    while registry_rows(tmp_path / "db.sqlite") < 3:
        assert proc.poll() is None, log.read_text()
        assert time.monotonic() < deadline, "the child never got going"
        time.sleep(0.1)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    done_before = registry_rows(tmp_path / "db.sqlite")
    assert 3 <= done_before < 16  # killed in the middle

    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    migrate(engine)
    store = build_store(url=None, path=tmp_path / "qdrant", collection="c")
    ing = Ingestor(
        engine=engine, store=store, embedder=FakeEmbedder(), sparse=SparseEncoder(), collection="c"
    )
    report = ing.ingest_path([tmp_path / "src"])
    assert report.ok
    assert len(report.unchanged) >= done_before - 1  # recorded work is not redone
    assert len(report.unchanged) + len(report.added) + len(report.updated) == 16
    docs = ing.documents()
    assert len(docs) == 16
    assert store.count() == sum(d.chunk_count for d in docs)  # nothing lost, nothing duplicated
    for d in docs:
        assert len(store.ids_for_doc(d.doc_id)) == d.chunk_count
    store.close()
    engine.dispose()
