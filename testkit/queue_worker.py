"""An ingestion queue worker process for multi-process tests and benchmarks:

    python -m testkit.queue_worker

the graph ``loregate ingest-worker`` builds from the environment, with the shared SQL test
store (``testkit.sql_store``: no Qdrant server on these machines) and the fake embedder, or
the real one with ``LOREGATE_TESTKIT_EMBEDDER=model``. Stops on SIGTERM."""

from __future__ import annotations

import os
import signal
import sys
import threading
from types import FrameType

from loregate.graph import Loregate
from loregate.overrides import Overrides
from loregate.settings import load_settings
from retrieval.embedder import TextEmbedder
from testkit.embedders import FakeEmbedder
from testkit.sql_store import SqlChunkStore


def main() -> None:
    settings = load_settings()
    probe = Loregate(settings)
    store = SqlChunkStore(probe.engine)
    embedder: TextEmbedder = FakeEmbedder()
    if os.environ.get("LOREGATE_TESTKIT_EMBEDDER") == "model":
        from retrieval.embedder import Embedder

        embedder = Embedder(settings.embedding_model)
    graph = Loregate(
        settings,
        Overrides(engine=probe.engine, embedder=embedder, stores={settings.collection: store}),
    )
    stop = threading.Event()

    def on_term(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_term)
    queue = graph.ingest_queue
    assert queue is not None, "LOREGATE_INGEST_BROKER is not set"
    print(f"worker {queue.worker_name} ready", flush=True)
    queue.run_worker(stop)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
