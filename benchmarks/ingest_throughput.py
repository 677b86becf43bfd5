"""Ingestion throughput, measured in one run (issue 4).

    .venv/bin/python benchmarks/ingest_throughput.py [--docs 120] [--points 100000]

1. The whole pipeline (parse with unstructured, chunk, embed with all-MiniLM-L6-v2, sparse
   encode, upsert into the embedded store, registry) on a generated corpus, against the raw
   throughput of the model alone on the SAME chunk texts (model loaded before both).
   Target: pipeline / raw >= 0.9.
2. An unchanged re-run as a share of the full run. Target: <= 2%.
3. The embedded store (qdrant-edge) at --points chunks: upsert rate, HNSW build (optimize),
   and dense and sparse query latency with the permission filter on.
4. ``--queue``: one job of --queue-docs documents on the task queue (RabbitMQ at
   $LOREGATE_TEST_AMQP_URL, PostgreSQL ``test``) with 1, 2 and 3 worker processes
   (``testkit.queue_worker``: the SQL test store; the fake embedder unless
   ``--queue-model``), documents/s and the speed-up against one worker in the same run.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from loregate.offline import configure_offline  # noqa: E402

configure_offline()

WORDS = [
    "robot",
    "fleet",
    "warehouse",
    "pallet",
    "dock",
    "charging",
    "battery",
    "lidar",
    "firmware",
    "refund",
    "invoice",
    "customer",
    "contract",
    "liability",
    "notice",
    "termination",
    "warranty",
    "supplier",
    "delivery",
    "schedule",
    "policy",
    "employee",
    "leave",
    "expense",
    "travel",
    "security",
    "password",
    "laptop",
    "network",
    "telemetry",
    "incident",
    "severity",
    "credit",
    "availability",
    "maintenance",
    "component",
    "motor",
    "gearbox",
    "housing",
    "forecast",
    "order",
    "payment",
    "interest",
]


def sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(8, 18))]
    return " ".join(words).capitalize() + "."


def make_corpus(root: Path, docs: int, seed: int = 7) -> None:
    """Markdown, HTML and text documents with headings and ~200-word sections."""
    rng = random.Random(seed)
    for i in range(docs):
        sections = []
        for s in range(4):
            paragraph = " ".join(sentence(rng) for _ in range(14))
            sections.append((f"Section {s + 1} {rng.choice(WORDS).title()}", paragraph))
        kind = i % 3
        if kind == 0:
            body = f"# Document {i}\n\n" + "".join(f"## {h}\n\n{p}\n\n" for h, p in sections)
            (root / f"doc{i:04}.md").write_text(body)
        elif kind == 1:
            body = "".join(f"<h2>{h}</h2><p>{p}</p>" for h, p in sections)
            (root / f"doc{i:04}.html").write_text(
                f"<html><body><h1>Document {i}</h1>{body}</body></html>"
            )
        else:
            (root / f"doc{i:04}.txt").write_text("\n\n".join(p for _, p in sections))


def pipeline_vs_raw(docs: int, work: Path) -> None:
    import asyncio

    from loregate.graph import Loregate
    from loregate.overrides import Overrides
    from loregate.settings import load_settings
    from retrieval import schema
    from retrieval.embedder import Embedder
    from retrieval.store.base import SearchFilter

    corpus = work / "corpus"
    corpus.mkdir()
    make_corpus(corpus, docs)
    embedder = Embedder()
    embedder.embed_documents(["warm up the model"] * 32)  # load before both measurements
    # The app's graph in ``work`` (SQLite, embedded store), the loaded model as its embedder.
    graph = Loregate(load_settings(home=work, collection="bench"), Overrides(embedder=embedder))
    graph.migrate()
    store, ingestor = graph.store(), graph.ingestor()
    # warm up the parsers (unstructured's imports) outside the timed run
    warm = work / "warm"
    warm.mkdir()
    make_corpus(warm, 3, seed=99)
    graph.ingestor("warm").ingest_path([warm])

    t0 = time.perf_counter()
    report = ingestor.ingest_path([corpus])
    full = time.perf_counter() - t0
    assert report.ok, report.failed
    n = report.chunks_written

    texts = []
    everyone = SearchFilter(("public",))
    for doc in ingestor.documents():
        texts += [c.payload[schema.TEXT] for c in store.chunks_of_doc(doc.doc_id, everyone)]
    assert len(texts) == n
    t0 = time.perf_counter()
    embedder.embed_documents(texts)
    raw = time.perf_counter() - t0

    t0 = time.perf_counter()
    again = ingestor.ingest_path([corpus])
    rerun = time.perf_counter() - t0
    assert again.counts()["unchanged"] == len(report.added) and again.chunks_written == 0

    print(f"corpus: {docs} documents (md/html/txt), {n} chunks")
    print(f"raw embedding (model alone):   {n / raw:7.1f} chunks/s  ({raw:6.1f} s)")
    print(f"whole pipeline:                {n / full:7.1f} chunks/s  ({full:6.1f} s)")
    print(f"pipeline / raw ratio:          {raw / full:7.2f}   (target >= 0.90)")
    print(
        f"unchanged re-run:              {rerun:7.2f} s = {100 * rerun / full:.2f}% of the "
        "full run (target <= 2%)"
    )
    asyncio.run(graph.aclose())


def store_at_scale(points: int, work: Path, dim: int = 384) -> None:
    import numpy as np

    from retrieval import schema
    from retrieval.sparse import SparseEncoder
    from retrieval.store.base import ChunkPoint, SearchFilter
    from retrieval.store.edge import EdgeStore

    rng = np.random.default_rng(3)
    centers = rng.normal(size=(64, dim)).astype(np.float32)
    groups = [f"group:g{i}" for i in range(20)]
    depts = ["dept:legal", "dept:hr", "dept:support", "dept:eng"]
    sparse = SparseEncoder()
    pyrng = random.Random(5)
    store = EdgeStore(work / "scale", "bench")
    store.ensure_collection(dim)
    batch = 2000
    upsert_s = 0.0
    for start in range(0, points, batch):
        n = min(batch, points - start)
        idx = rng.integers(0, len(centers), size=n)
        vecs = centers[idx] + 0.35 * rng.normal(size=(n, dim)).astype(np.float32)
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
        texts = [" ".join(pyrng.choice(WORDS) for _ in range(40)) for _ in range(n)]
        sparse_vecs = sparse.encode_documents(texts)
        pts = []
        for j in range(n):
            k = start + j
            access = [pyrng.choice(depts), pyrng.choice(groups)] if k % 10 else ["public"]
            pts.append(
                ChunkPoint(
                    str(uuid.UUID(int=k + 1)),
                    vecs[j].tolist(),
                    sparse_vecs[j],
                    {
                        schema.DOC_ID: f"doc{k // 8}",
                        schema.CHUNK_INDEX: k % 8,
                        schema.ACCESS: access,
                        schema.DOC_TYPE: "doc",
                        schema.DEPARTMENT: access[0][5:],
                        schema.TEXT: texts[j],
                        schema.UPDATED_AT: float(k),
                    },
                )
            )
        t0 = time.perf_counter()
        store.upsert(pts)
        upsert_s += time.perf_counter() - t0
    t0 = time.perf_counter()
    store.optimize()
    optimize_s = time.perf_counter() - t0

    asker = SearchFilter(("public", "dept:hr", "group:g3", "user:hana"))
    queries = []
    for _ in range(200):
        q = centers[rng.integers(0, len(centers))] + 0.35 * rng.normal(size=dim)
        queries.append((q / np.linalg.norm(q)).astype(np.float32).tolist())
    lat_dense, lat_sparse = [], []
    for q in queries:
        t0 = time.perf_counter()
        hits = store.search_dense(q, asker, 10)
        lat_dense.append(time.perf_counter() - t0)
        assert all(set(h.payload[schema.ACCESS]) & set(asker.access_tokens) for h in hits)
    for _ in range(200):
        text = " ".join(pyrng.choice(WORDS) for _ in range(5))
        qv = sparse.encode_query(text)
        t0 = time.perf_counter()
        store.search_sparse(qv, asker, 10)
        lat_sparse.append(time.perf_counter() - t0)
    visible = store.count(asker)

    def pct(xs: list[float], p: float) -> float:
        return sorted(xs)[min(len(xs) - 1, int(p * len(xs)))] * 1000

    print(
        f"embedded store (qdrant-edge) at {points:,} chunks, {dim} dims, "
        f"permission filter on ({visible:,} visible to the asker):"
    )
    print(f"  upsert:          {points / upsert_s:9,.0f} points/s ({upsert_s:.1f} s)")
    print(f"  optimize (HNSW): {optimize_s:9.1f} s")
    print(
        f"  dense query:     p50 {pct(lat_dense, 0.5):6.2f} ms  p99 {pct(lat_dense, 0.99):6.2f} ms"
        f"  (mean {statistics.mean(lat_dense) * 1000:.2f} ms)"
    )
    print(
        f"  sparse query:    p50 {pct(lat_sparse, 0.5):6.2f} ms  "
        f"p99 {pct(lat_sparse, 0.99):6.2f} ms"
    )
    store.close()


def queue_workers(docs: int, work: Path, model: bool) -> None:
    import os
    import subprocess

    import sqlalchemy as sa

    from loregate.graph import Loregate
    from loregate.settings import load_settings

    amqp = os.environ.get("LOREGATE_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")
    postgres = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    corpus = work / "queue-corpus"
    corpus.mkdir()
    make_corpus(corpus, docs)
    admin = sa.create_engine(postgres)
    rates: dict[int, float] = {}
    for n in (1, 2, 3):
        schema, queue = f"bench_{uuid.uuid4().hex[:10]}", f"lg-bench-{uuid.uuid4().hex[:8]}"
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        env = {
            "LOREGATE_HOME": str(work / f"home{n}"),
            "LOREGATE_DATABASE_URL": f"{postgres}?options=-csearch_path%3D{schema}",
            "LOREGATE_INGEST_BROKER": amqp,
            "LOREGATE_INGEST_QUEUE_NAME": queue,
            "LOREGATE_COLLECTION": "bench",
        }
        if model:
            env["LOREGATE_TESTKIT_EMBEDDER"] = "model"
        graph = Loregate(load_settings(**{k[9:].lower(): v for k, v in env.items()}))
        graph.migrate()
        logs = [work / f"w{n}-{i}.log" for i in range(n)]
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "testkit.queue_worker"],
                cwd=ROOT,
                env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
                stdout=log.open("wb"),
                stderr=subprocess.STDOUT,
            )
            for log in logs
        ]
        while not all("ready" in log.read_text() for log in logs):  # models loaded
            time.sleep(0.2)
        request = {"paths": [str(corpus)], "manifest": None, "prune": False, "dry_run": False}
        job = graph.job_store.create("bench", {**request, "source": "bench"}, "bench")
        t0 = time.perf_counter()
        assert graph.ingest_queue is not None
        graph.ingest_queue.submit(job)
        while (record := graph.job_store.get(job)) is not None and record.finished_at is None:
            time.sleep(0.1)
        took = time.perf_counter() - t0
        assert record is not None and record.status == "succeeded", record
        rates[n] = docs / took
        print(
            f"task queue, {n} worker(s): {docs} documents, {record.chunks} chunks in "
            f"{took:6.1f} s = {rates[n]:6.1f} documents/s  (x{rates[n] / rates[1]:.2f} vs 1)"
        )
        for p in procs:
            p.kill()
            p.wait()
        graph.ingest_queue.close()
        graph.engine.dispose()
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=120, help="generated documents")
    parser.add_argument("--points", type=int, default=100_000, help="chunks for the store test")
    parser.add_argument("--skip-pipeline", action="store_true")
    parser.add_argument("--skip-store", action="store_true")
    parser.add_argument("--queue", action="store_true", help="1, 2 and 3 queue workers")
    parser.add_argument("--queue-docs", type=int, default=600)
    parser.add_argument("--queue-model", action="store_true", help="the real embedder")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="loregate-bench-") as tmp:
        if not args.skip_pipeline:
            pipeline_vs_raw(args.docs, Path(tmp))
        if not args.skip_store:
            store_at_scale(args.points, Path(tmp))
        if args.queue:
            queue_workers(args.queue_docs, Path(tmp), args.queue_model)


if __name__ == "__main__":
    main()
