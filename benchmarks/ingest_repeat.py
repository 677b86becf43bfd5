"""Ten consecutive ingests of a corpus of 5,000+ chunks with the real embedder, each into a
fresh home, one loaded model shared by all (issue 13): no crash, the same chunks every time.

The preparation thread counts tokens while the main thread encodes; sharing one fast
tokenizer between them once crashed two runs in four ("excessive nesting (input_ids)"), so
this is the run that would show it.

    .venv/bin/python benchmarks/ingest_repeat.py [--docs 900] [--runs 10]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from ingest_throughput import make_corpus  # noqa: E402

from loregate.offline import configure_offline  # noqa: E402

configure_offline()

from loregate.graph import Loregate  # noqa: E402
from loregate.overrides import Overrides  # noqa: E402
from loregate.settings import load_settings  # noqa: E402
from retrieval.embedder import Embedder  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--docs", type=int, default=900)
    parser.add_argument("--runs", type=int, default=10)
    a = parser.parse_args()
    embedder = Embedder()
    embedder.embed_documents(["warm up the model"] * 8)
    with tempfile.TemporaryDirectory(prefix="lg-repeat-") as tmp:
        corpus = Path(tmp) / "corpus"
        corpus.mkdir()
        make_corpus(corpus, a.docs)
        counts = []
        for run in range(1, a.runs + 1):
            home = Path(tmp) / f"home{run}"
            graph = Loregate(load_settings(home=home), Overrides(embedder=embedder))
            graph.migrate()
            started = time.perf_counter()
            report = graph.ingestor().ingest_path([corpus])
            seconds = time.perf_counter() - started
            counts.append(report.chunks_written)
            print(
                f"run {run:>2}: {len(report.added)} documents, {report.chunks_written} chunks, "
                f"{len(report.failed)} failed, {seconds:.1f} s"
            )
            if report.failed:
                print(f"  first failure: {report.failed[0]}")
                return 1
            graph.store().close()
    same = len(set(counts)) == 1
    print(f"{a.runs} runs, no crash; chunks per run {counts[0]}, the same every run: {same}")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
