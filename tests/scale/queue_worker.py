"""An ingestion queue worker process for the multi-process tests: the graph the CLI's
``loregate ingest-worker`` builds from the environment, with a fast fake embedder and the
shared SQL test store (no Qdrant server on these machines). Stops on SIGTERM."""

from __future__ import annotations

import signal
import sys
import threading
from types import FrameType

from loregate.graph import Loregate
from loregate.overrides import Overrides
from loregate.settings import load_settings
from testkit.embedders import FakeEmbedder
from testkit.sql_store import SqlChunkStore


def main() -> None:
    settings = load_settings()
    probe = Loregate(settings)
    store = SqlChunkStore(probe.engine)
    graph = Loregate(
        settings,
        Overrides(
            engine=probe.engine, embedder=FakeEmbedder(), stores={settings.collection: store}
        ),
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
