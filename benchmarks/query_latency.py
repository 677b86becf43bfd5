"""Query latency: hybrid search plus context building, with the permission filter on, at 10k
and 100k chunks in the embedded store (qdrant-edge, HNSW built), p50 and p99.

The corpus is synthetic (the store's speed does not depend on what the vectors mean): unit
dense vectors of 384 dimensions around 64 topic centres, BM25-style sparse vectors over a
Zipf vocabulary, ~120-word texts, and access lists over 12 departments and 40 groups (8 %
public), so a typical asker may read roughly 15 % of the chunks. Each query is one asker's:
the filter is built from their principal, inside the store's query, before ranking.

Timed per query: the dense and the sparse store queries (both filtered), fusion, and the
context builder (floor, near-duplicates, token budget, merge, numbering); reported apart, the
MiniLM query embedding (the same for any corpus size). The baseline in the same run is the
dense query with no filter (what a search-then-filter design would start from).
Target: p50 <= 50 ms at 100k chunks.

    .venv/bin/python benchmarks/query_latency.py [--sizes 10000 100000] [--queries 300]
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

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from loregate.offline import configure_offline  # noqa: E402

configure_offline()

from kernel.principal import Principal  # noqa: E402
from retrieval import schema  # noqa: E402
from retrieval.context_builder import ContextBuilder  # noqa: E402
from retrieval.filters import search_filter  # noqa: E402
from retrieval.rerank import CoverageConfig, CoverageReranker  # noqa: E402
from retrieval.search import HybridSearcher  # noqa: E402
from retrieval.sparse import SparseEncoder  # noqa: E402
from retrieval.store.base import ChunkPoint, SearchFilter, SparseVector  # noqa: E402
from retrieval.store.edge import EdgeStore  # noqa: E402

DIM = 384
VOCAB = 30_000
DEPTS = [f"d{i}" for i in range(12)]
GROUPS = [f"g{i}" for i in range(40)]
WORDS = [f"w{i}" for i in range(5000)]


class VecQuery:
    """Query encoders returning precomputed vectors (the embedding is timed apart)."""

    def __init__(self) -> None:
        self.dense: list[float] = []
        self.sparse = SparseVector([], [])

    def embed_query(self, text: str) -> list[float]:
        return self.dense

    def encode_query(self, text: str) -> SparseVector:
        return self.sparse


def unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def sparse_vec(rng: random.Random, n: int) -> SparseVector:
    ids = sorted({min(VOCAB - 1, int(rng.paretovariate(1.1))) for _ in range(n)})
    return SparseVector(ids, [round(rng.uniform(0.5, 2.0), 3) for _ in ids])


def access(rng: random.Random) -> list[str]:
    r = rng.random()
    if r < 0.08:
        return ["public"]
    if r < 0.6:
        return [f"dept:{rng.choice(DEPTS)}"]
    return [f"group:{rng.choice(GROUPS)}", f"dept:{rng.choice(DEPTS)}"]


def build(n: int, seed: int = 7) -> tuple[EdgeStore, np.ndarray, float, float]:
    rng = random.Random(seed)
    nrng = np.random.default_rng(seed)
    centres = unit(nrng.normal(size=(64, DIM)).astype(np.float32))
    store = EdgeStore(Path(tempfile.mkdtemp(prefix="lg-ql-")), "bench")
    store.ensure_collection(DIM)
    t0 = time.perf_counter()
    batch = 2000
    for start in range(0, n, batch):
        m = min(batch, n - start)
        topics = nrng.integers(0, 64, size=m)
        vecs = unit(centres[topics] + 0.35 * nrng.normal(size=(m, DIM)).astype(np.float32))
        pts = []
        for j in range(m):
            i = start + j
            doc = f"doc{i // 8}"
            pts.append(
                ChunkPoint(
                    str(uuid.UUID(int=i + 1)),
                    vecs[j].tolist(),
                    sparse_vec(rng, 40),
                    {
                        schema.DOC_ID: doc,
                        schema.CHUNK_INDEX: i % 8,
                        schema.DOC_TYPE: rng.choice(["contract", "doc", "ticket"]),
                        schema.DEPARTMENT: rng.choice(DEPTS),
                        schema.ACCESS: access(rng),
                        schema.SOURCE: f"corpus/{doc}.md",
                        schema.TITLE: f"Document {doc}",
                        schema.SECTION: f"Section {i % 8}",
                        schema.TEXT: " ".join(rng.choices(WORDS, k=120)),
                        schema.UPDATED_AT: 1.7e9 + i,
                    },
                )
            )
        store.upsert(pts)
    upsert_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    store.optimize()
    return store, centres, upsert_s, time.perf_counter() - t1


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run(n: int, queries: int, embed_ms: float) -> None:
    store, centres, upsert_s, optimize_s = build(n)
    rng = random.Random(99)
    nrng = np.random.default_rng(99)
    enc = VecQuery()
    searcher = HybridSearcher(store, enc, enc)
    # the coverage reranker (LOREGATE_RERANK_WEIGHT 0.6) over the same fused hits
    reranked = HybridSearcher(
        store, enc, enc, reranker=CoverageReranker(SparseEncoder(), CoverageConfig(0.6))
    )
    with_rerank: list[float] = []
    builder = ContextBuilder()
    total: list[float] = []
    unfiltered: list[float] = []
    share: list[float] = []
    sizes = []
    everyone = store.count()
    for qi in range(queries + 20):
        p = Principal(
            user_id=f"u{qi}",
            department=rng.choice(DEPTS),
            groups=tuple(rng.sample(GROUPS, 2)),
        )
        flt = search_filter(p)
        enc.dense = unit(centres[qi % 64] + 0.4 * nrng.normal(size=DIM)).tolist()
        enc.sparse = sparse_vec(rng, 6)
        question = " ".join(rng.choices(WORDS, k=8))
        t0 = time.perf_counter()
        hits = searcher.search(question, flt, top_k=20)
        sources = builder.build(hits)
        t1 = time.perf_counter()
        builder.build(reranked.search(question, flt, top_k=20))
        t4 = time.perf_counter()
        t2 = time.perf_counter()
        store.search_dense(enc.dense, _ALL, 40)
        t3 = time.perf_counter()
        if qi >= 20:  # warm-up excluded
            total.append((t1 - t0) * 1000)
            unfiltered.append((t3 - t2) * 1000)
            with_rerank.append((t4 - t1) * 1000)
            sizes.append(len(sources))
            if qi < 40:
                share.append(store.count(flt) / everyone)
    store.close()
    print(
        f"{n:>7} chunks (upsert {upsert_s:.0f} s, HNSW {optimize_s:.0f} s; asker may read "
        f"~{100 * statistics.mean(share):.0f} % of chunks)\n"
        f"        search + context, filtered:  p50 {pct(total, 0.5):6.2f} ms   "
        f"p99 {pct(total, 0.99):6.2f} ms   ({statistics.mean(sizes):.1f} sources/answer)\n"
        f"        + coverage reranker (0.6):   p50 {pct(with_rerank, 0.5):6.2f} ms   "
        f"p99 {pct(with_rerank, 0.99):6.2f} ms\n"
        f"        baseline dense, no filter:   p50 {pct(unfiltered, 0.5):6.2f} ms   "
        f"p99 {pct(unfiltered, 0.99):6.2f} ms\n"
        f"        + MiniLM query embedding:    p50 {pct(total, 0.5) + embed_ms:6.2f} ms   "
        f"(embedding alone {embed_ms:.1f} ms)\n"
        f"        target p50 <= 50 ms: {'met' if pct(total, 0.5) <= 50 else 'NOT met'}"
    )


_ALL = SearchFilter(
    access_tokens=("public", *(f"dept:{d}" for d in DEPTS), *(f"group:{g}" for g in GROUPS))
)


def embed_latency() -> float:
    from retrieval.embedder import Embedder

    emb = Embedder()
    emb.embed_query("warm up")
    samples = []
    for i in range(30):
        t0 = time.perf_counter()
        emb.embed_query(f"How much notice is needed to terminate contract number {i}?")
        samples.append((time.perf_counter() - t0) * 1000)
    return statistics.median(samples)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--queries", type=int, default=300)
    args = ap.parse_args()
    embed_ms = embed_latency()
    for n in args.sizes:
        run(n, args.queries, embed_ms)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
