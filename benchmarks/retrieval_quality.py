"""Retrieval quality on ../shared/data/anthropic_docs_rag (232 doc chunks, 100 questions with
gold chunks): BM25 alone, dense alone and loregate's hybrid, in one run, on one index.

The chunks go through what loregate's ingestion does to a document: each is cut into pieces
of at most 200 MiniLM word pieces (MiniLM reads 256), each piece prefixed with its breadcrumb
(page path > section heading), embedded by loregate's embedder (all-MiniLM-L6-v2) and encoded
by loregate's BM25 sparse encoder, and stored in the embedded Qdrant store (qdrant-edge).
A result list is ranked by piece, then reduced to gold-chunk level (first piece wins).

Prints recall@1/3/5/10, MRR (@10 and @3) and nDCG@10 for: BM25 alone, dense alone, loregate's
hybrid (the defaults: DBSF fusion, dense weight 0.5, 40 candidates per retriever), the other
fusion methods (RRF, convex), DBSF with the same-document boost, and, with --ablations, BM25,
dense and the default hybrid without the breadcrumb prefix.
Targets: recall@5 >= 0.85 and MRR >= 0.80 (plain BM25 on this set: recall@5 0.699, MRR@3 0.758).

    .venv/bin/python benchmarks/retrieval_quality.py [--ablations] [--data DIR]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from loregate.offline import configure_offline  # noqa: E402

configure_offline()

from retrieval import schema  # noqa: E402
from retrieval.embedder import Embedder  # noqa: E402
from retrieval.fusion import FusionConfig  # noqa: E402
from retrieval.search import HybridSearcher, SearchConfig  # noqa: E402
from retrieval.sparse import SparseEncoder  # noqa: E402
from retrieval.store.base import ChunkPoint, IndexStore, SearchFilter  # noqa: E402
from retrieval.store.edge import EdgeStore  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "anthropic_docs_rag"
PIECE_TOKENS = 200
GOLD = "gold_chunk"  # extra payload key of the benchmark: the gold chunk a piece came from
FLT = SearchFilter(access_tokens=("public",))


def breadcrumb(link: str, heading: str) -> str:
    path = link.split("#")[0].rstrip("/").split("/")
    segs = [s for s in path[3:] if s not in ("docs", "en")]
    crumbs = [s.replace("-", " ").capitalize() for s in segs] or ["API"]
    return " > ".join([*crumbs, heading])


def pieces(text: str, count: Callable[[str], int], max_tokens: int = PIECE_TOKENS) -> list[str]:
    """Line-aligned pieces of at most ``max_tokens`` (a single longer line stays whole)."""
    out: list[str] = []
    cur: list[str] = []
    n = 0
    for line in (ln for ln in text.split("\n") if ln.strip()):
        t = count(line)
        if cur and n + t > max_tokens:
            out.append("\n".join(cur))
            cur, n = [], 0
        cur.append(line)
        n += t
    if cur:
        out.append("\n".join(cur))
    return out or [text]


def build_index(
    chunks: list[dict[str, str]], embedder: Embedder, sparse: SparseEncoder, prefix: bool
) -> tuple[IndexStore, float]:
    started = time.perf_counter()
    rows: list[tuple[str, str, int, str]] = []  # (doc, gold chunk, index, text)
    per_doc: dict[str, int] = {}
    for c in chunks:
        link = c["chunk_link"]
        doc = link.split("#")[0]
        head = breadcrumb(link, c["chunk_heading"]) + "\n" if prefix else ""
        for piece in pieces(c["text"], embedder.count_tokens):
            idx = per_doc.get(doc, 0)
            per_doc[doc] = idx + 1
            rows.append((doc, link, idx, head + piece))
    texts = [r[3] for r in rows]
    dense = embedder.embed_documents(texts)
    sparse_vecs = sparse.encode_documents(texts)
    store = EdgeStore(Path(tempfile.mkdtemp(prefix="lg-rq-")), "bench")
    store.ensure_collection(int(dense.shape[1]))
    store.upsert(
        [
            ChunkPoint(
                str(uuid.uuid4()),
                [float(x) for x in vec],
                sv,
                {
                    schema.DOC_ID: doc,
                    schema.CHUNK_INDEX: idx,
                    schema.ACCESS: ["public"],
                    schema.TEXT: text,
                    GOLD: link,
                },
            )
            for (doc, link, idx, text), vec, sv in zip(rows, dense, sparse_vecs, strict=True)
        ]
    )
    store.optimize()
    return store, time.perf_counter() - started


def gold_ranking(payloads: Sequence[dict[str, object]]) -> list[str]:
    return list(dict.fromkeys(str(p[GOLD]) for p in payloads))


def metrics(runs: list[tuple[list[str], list[str]]]) -> dict[str, float]:
    out: dict[str, float] = {}
    for k in (1, 3, 5, 10):
        out[f"recall@{k}"] = sum(len(set(g) & set(r[:k])) / len(g) for g, r in runs) / len(runs)

    def rr(g: list[str], r: list[str], k: int) -> float:
        return next((1.0 / i for i, x in enumerate(r[:k], start=1) if x in g), 0.0)

    out["MRR@10"] = sum(rr(g, r, 10) for g, r in runs) / len(runs)
    out["MRR@3"] = sum(rr(g, r, 3) for g, r in runs) / len(runs)

    def ndcg(g: list[str], r: list[str]) -> float:
        dcg = sum(1 / math.log2(i + 1) for i, x in enumerate(r[:10], start=1) if x in g)
        idcg = sum(1 / math.log2(i + 1) for i in range(1, min(len(g), 10) + 1))
        return dcg / idcg

    out["nDCG@10"] = sum(ndcg(g, r) for g, r in runs) / len(runs)
    return out


def evaluate(
    questions: list[dict[str, object]], rank: Callable[[str], list[str]]
) -> tuple[dict[str, float], float]:
    started = time.perf_counter()
    runs = [
        ([str(x) for x in q["correct_chunks"]], rank(str(q["question"])))  # type: ignore[attr-defined]
        for q in questions
    ]
    per_query_ms = (time.perf_counter() - started) * 1000 / len(questions)
    return metrics(runs), per_query_ms


def rankers(
    store: IndexStore, embedder: Embedder, sparse: SparseEncoder
) -> dict[str, Callable[[str], list[str]]]:
    depth = 40

    def bm25(q: str) -> list[str]:
        return gold_ranking(
            [c.payload for c in store.search_sparse(sparse.encode_query(q), FLT, depth)]
        )

    def dense(q: str) -> list[str]:
        return gold_ranking(
            [c.payload for c in store.search_dense(embedder.embed_query(q), FLT, depth)]
        )

    def hybrid(cfg: SearchConfig) -> Callable[[str], list[str]]:
        searcher = HybridSearcher(store, embedder, sparse, cfg)
        return lambda q: gold_ranking([h.payload for h in searcher.search(q, FLT, top_k=depth)])

    return {
        "BM25 alone (Qdrant BM25, IDF)": bm25,
        "dense alone (MiniLM)": dense,
        "loregate hybrid (DBSF 0.5, default)": hybrid(SearchConfig()),
        "hybrid, RRF k=60": hybrid(SearchConfig(fusion=FusionConfig(method="rrf"))),
        "hybrid, convex 0.5": hybrid(SearchConfig(fusion=FusionConfig(method="convex"))),
        "hybrid, DBSF 0.5 + same-doc boost 0.1": hybrid(
            SearchConfig(fusion=FusionConfig(same_doc_boost=0.1))
        ),
    }


def show(name: str, m: dict[str, float], ms: float) -> None:
    cols = " ".join(
        f"{m[k]:>9.3f}"
        for k in ("recall@1", "recall@3", "recall@5", "recall@10", "MRR@10", "MRR@3", "nDCG@10")
    )
    print(f"{name:<40} {cols} {ms:>8.1f}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--ablations", action="store_true", help="also index without the prefix")
    args = ap.parse_args()
    chunks = json.loads((args.data / "anthropic_docs.json").read_text())
    questions = json.loads((args.data / "docs_evaluation_dataset.json").read_text())
    embedder, sparse = Embedder(), SparseEncoder()
    store, secs = build_index(chunks, embedder, sparse, prefix=True)
    print(
        f"{len(chunks)} chunks -> {store.count()} pieces indexed in {secs:.1f} s; "
        f"{len(questions)} questions\n"
    )
    header = " ".join(
        f"{k:>9}" for k in ("R@1", "R@3", "R@5", "R@10", "MRR@10", "MRR@3", "nDCG@10")
    )
    print(f"{'method':<40} {header} {'ms/query':>8}")
    results: dict[str, dict[str, float]] = {}
    for name, rank in rankers(store, embedder, sparse).items():
        m, ms = evaluate(questions, rank)
        results[name] = m
        show(name, m, ms)
    store.close()
    if args.ablations:
        plain, _ = build_index(chunks, embedder, sparse, prefix=False)
        for name, rank in rankers(plain, embedder, sparse).items():
            if name.startswith(("BM25", "dense", "loregate")):
                m, ms = evaluate(questions, rank)
                show(f"{name.split(' (')[0]}, no breadcrumb", m, ms)
        plain.close()
    ours = results["loregate hybrid (DBSF 0.5, default)"]
    bm25 = results["BM25 alone (Qdrant BM25, IDF)"]
    ok = ours["recall@5"] >= 0.85 and ours["MRR@10"] >= 0.80
    print(
        f"\nloregate hybrid: recall@5 {ours['recall@5']:.3f} (target >= 0.85, "
        f"{ours['recall@5'] / bm25['recall@5']:.2f}x BM25 alone; published plain BM25 0.699), "
        f"MRR@10 {ours['MRR@10']:.3f} (target >= 0.80; plain BM25 MRR@3 0.758) -> "
        f"{'targets met' if ok else 'targets NOT met'}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
