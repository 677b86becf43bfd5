"""Document-level retrieval over look-alike documents, through loregate's real ingest path:
is the document a question is about in the top k? (issue 13)

By default `../shared/data/docugami_earnings_calls`: ten real earnings-call transcripts (PDF;
nine Snowflake calls across quarters, one Microsoft) and 62 questions whose reference answers
name their source call ("Source: Q3 2023 Earnings Call, pg 2"; "Q1, Q2, Q3 2023" names three).
A question's gold documents are the files whose name starts with each named "Q<n> <year>";
questions without a source (answers "N/A", or none given) are left out, as unanswerable. A hit
is any gold document in the top k; MRR is of the first one.

    .venv/bin/python benchmarks/retrieval_documents.py
    .venv/bin/python benchmarks/retrieval_documents.py --folder DIR --questions Q.csv
    .venv/bin/python benchmarks/retrieval_documents.py --no-identity   # the ablation
    .venv/bin/python benchmarks/retrieval_documents.py --heading-weights 0,0.5,1,2,3

``--questions`` is a CSV with columns ``question`` and ``source`` (the gold file's name relative
to the folder; several separated by ``;``). Rows, in one run over the same documents:

- loregate: the folder ingested as `loregate ingest` does (parsing, structure-aware chunks with
  the document's identity in each chunk's header and heading field, the bundled embedder, the
  embedded store) and searched by `HybridSearcher` with its shipped settings, which were chosen
  on the Claude-docs set (benchmarks/retrieval_quality.py), never on this one;
- loregate's own chunks by dense search alone and by BM25 alone;
- plain baselines over the same extracted text cut into windows of about 250 tokens with no
  header at all: dense alone, BM25 alone.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from loregate.offline import configure_offline  # noqa: E402

configure_offline()

from ingest.loaders.files import parse_file, read_file  # noqa: E402
from loregate.graph import Loregate  # noqa: E402
from loregate.settings import load_settings  # noqa: E402
from retrieval import schema  # noqa: E402
from retrieval.fusion import Hit  # noqa: E402
from retrieval.rerank import CoverageConfig, CoverageReranker  # noqa: E402
from retrieval.search import HybridSearcher  # noqa: E402
from retrieval.sparse import SparseConfig, SparseEncoder  # noqa: E402
from retrieval.store.base import ChunkPoint, IndexStore, ScoredChunk, SearchFilter  # noqa: E402
from retrieval.store.edge import EdgeStore  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "docugami_earnings_calls"
FLT = SearchFilter(access_tokens=("public",))
DEPTH = 50
WINDOW_WORDS = 180  # about 250 MiniLM word pieces
KS = (1, 3, 5, 10)
RERANK_WEIGHTS = (0.15, 0.3, 0.6)  # the reranker's weight is chosen here, reported elsewhere
Ranker = Callable[[str], list[str]]
_QUARTERS = re.compile(r"((?:Q[1-4]\s*,?\s*(?:and\s+)?)+)((?:19|20)\d{2})")


def earnings_questions(folder: Path) -> list[tuple[str, list[str]]]:
    names = sorted(p.name for p in (folder / "docs").glob("*.pdf"))
    out = []
    with (folder / "qna_data.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            answer = row["Answer"]
            at = answer.lower().rfind("source")
            if at < 0:
                continue
            gold = []
            for quarters, year in _QUARTERS.findall(answer[at:]):
                for q in re.findall(r"Q[1-4]", quarters):
                    gold += [n for n in names if n.startswith(f"{q} {year}")]
            if gold:
                out.append((row["Question"], sorted(set(gold))))
    return out


def csv_questions(path: Path) -> list[tuple[str, list[str]]]:
    with path.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    if not rows or not {"question", "source"} <= set(rows[0]):
        raise SystemExit(f"{path}: a CSV with the columns question and source is needed")
    return [(r["question"], [s.strip() for s in r["source"].split(";") if s.strip()]) for r in rows]


def doc_of(payload: dict[str, object]) -> str:
    return Path(str(payload.get(schema.SOURCE, ""))).name


def ranking(chunks: Sequence[ScoredChunk] | Sequence[Hit]) -> list[str]:
    return list(dict.fromkeys(doc_of(c.payload) for c in chunks))


def score(rank: Ranker, questions: list[tuple[str, list[str]]]) -> dict[str, float]:
    hits = dict.fromkeys(KS, 0.0)
    rr = 0.0
    started = time.perf_counter()
    for question, gold in questions:
        ranked = rank(question)
        first = next((i for i, d in enumerate(ranked, start=1) if d in gold), None)
        for k in KS:
            hits[k] += first is not None and first <= k
        rr += 1.0 / first if first else 0.0
    n = len(questions)
    out = {f"hit@{k}": hits[k] / n for k in KS}
    out["MRR"] = rr / n
    out["ms"] = (time.perf_counter() - started) * 1000 / n
    return out


class CachedEmbedder:
    """The real embedder, remembering each text's vector: re-ingesting the same folder with
    another setting (``--heading-weights``) costs no second embedding."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.seen: dict[str, Any] = {}

    def embed_documents(self, texts: Sequence[str]) -> Any:
        todo = [t for t in dict.fromkeys(texts) if t not in self.seen]
        if todo:
            for t, v in zip(todo, self.inner.embed_documents(todo), strict=True):
                self.seen[t] = v
        return np.stack([self.seen[t] for t in texts])

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def sweep(folder: Path, questions: list[tuple[str, list[str]]], weights: list[float]) -> None:
    """The BM25 heading field's weight chosen on this corpus (by hit@5, then MRR: the rule
    benchmarks/retrieval_quality.py applies on the Claude docs)."""
    embedder: CachedEmbedder | None = None
    results = {}
    for w in weights:
        with tempfile.TemporaryDirectory(prefix="lg-rd-sweep-") as home:
            graph = Loregate(load_settings(home=Path(home)))
            graph.migrate()
            embedder = embedder or CachedEmbedder(graph.embedder)
            graph.__dict__["embedder"] = embedder
            graph.__dict__["sparse"] = SparseEncoder(SparseConfig(heading_weight=w))
            graph.ingestor().ingest_path([folder])
            searcher = HybridSearcher(graph.store(), embedder, graph.sparse)
            m = score(lambda q, s=searcher: ranking(s.search(q, FLT, top_k=DEPTH)), questions)
            results[w] = m
            print(f"heading weight {w:>4}: hit@5 {m['hit@5']:.3f}  MRR {m['MRR']:.3f}")
    best = max(weights, key=lambda w: (results[w]["hit@5"], results[w]["MRR"]))
    print(
        f"chosen on this corpus: heading_weight {best} (shipped: {SparseConfig().heading_weight})"
    )


def reranked(store: IndexStore, emb: Any, sparse: SparseEncoder, weight: float) -> Ranker:
    searcher = HybridSearcher(
        store, emb, sparse, reranker=CoverageReranker(sparse, CoverageConfig(weight))
    )
    return lambda q: ranking(searcher.search(q, FLT, top_k=DEPTH))


def windows_store(files: list[Path], root: Path, embedder: object, sparse: object) -> IndexStore:
    """The plain baselines' index: each document's extracted text in windows, no header."""
    ids, texts, payloads = [], [], []
    for path in files:
        parsed = parse_file(path, read_file(path, 100_000_000), None, "en")
        words = " ".join(e.text for e in parsed.elements).split()
        for i in range(0, len(words), WINDOW_WORDS):
            texts.append(" ".join(words[i : i + WINDOW_WORDS]))
            payloads.append({schema.SOURCE: path.name, schema.ACCESS: ["public"]})
            ids.append(f"{len(ids):08x}-0000-0000-0000-000000000000")
    dense = embedder.embed_documents(texts)  # type: ignore[attr-defined]
    vecs = sparse.encode_documents(texts, None)  # type: ignore[attr-defined]
    store = EdgeStore(Path(tempfile.mkdtemp(prefix="lg-rd-")), "windows")
    store.ensure_collection(int(dense.shape[1]))
    store.upsert(
        [
            ChunkPoint(i, [float(x) for x in v], s, p)
            for i, v, s, p in zip(ids, dense, vecs, payloads, strict=True)
        ]
    )
    store.optimize()
    return store


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--folder", type=Path, default=None)
    parser.add_argument("--questions", type=Path, default=None)
    parser.add_argument(
        "--heading-weights",
        default=None,
        help="comma-separated weights of the BM25 heading field to choose from on this corpus",
    )
    parser.add_argument(
        "--no-identity",
        action="store_true",
        help="ablation: chunks carry only the extracted title, as before issue 13",
    )
    a = parser.parse_args()
    if a.no_identity:
        import ingest.prepare

        ingest.prepare.identity_title = lambda title, rel, text, **_: title  # type: ignore[assignment]
    if (a.folder is None) != (a.questions is None):
        parser.error("--folder and --questions go together")
    if a.folder is None:
        folder, questions = DATA / "docs", earnings_questions(DATA)
    else:
        folder, questions = a.folder, csv_questions(a.questions)
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    print(f"{len(files)} documents in {folder}, {len(questions)} answerable questions")
    if a.heading_weights:
        sweep(folder, questions, [float(w) for w in a.heading_weights.split(",")])
        return 0
    with tempfile.TemporaryDirectory(prefix="lg-rd-home-") as home:
        graph = Loregate(load_settings(home=Path(home)))
        graph.migrate()
        started = time.perf_counter()
        report = graph.ingestor().ingest_path([folder])
        print(
            f"ingested {len(report.added)} documents, {report.chunks_written} chunks in "
            f"{time.perf_counter() - started:.1f} s ({len(report.failed)} failed)"
        )
        store, emb, sparse = graph.store(), graph.embedder, graph.sparse
        searcher = HybridSearcher(store, emb, sparse)
        plain = windows_store(files, folder, emb, sparse)
        rows: dict[str, Ranker] = {
            "loregate hybrid (shipped settings)": lambda q: ranking(
                searcher.search(q, FLT, top_k=DEPTH)
            ),
            **{
                f"  + coverage reranker, weight {w}": reranked(store, emb, sparse, w)
                for w in RERANK_WEIGHTS
            },
            "loregate chunks, dense alone": lambda q: ranking(
                store.search_dense(emb.embed_query(q), FLT, DEPTH)
            ),
            "loregate chunks, BM25 alone": lambda q: ranking(
                store.search_sparse(sparse.encode_query(q), FLT, DEPTH)
            ),
            "plain windows, dense alone": lambda q: ranking(
                plain.search_dense(emb.embed_query(q), FLT, DEPTH)
            ),
            "plain windows, BM25 alone": lambda q: ranking(
                plain.search_sparse(sparse.encode_query(q), FLT, DEPTH)
            ),
        }
        print(f"{'':<38}" + "".join(f"{c:>9}" for c in (*[f"hit@{k}" for k in KS], "MRR", "ms")))
        for name, rank in rows.items():
            m = score(rank, questions)
            cells = "".join(f"{m[c]:>9.3f}" for c in (*[f"hit@{k}" for k in KS], "MRR"))
            print(f"{name:<38}{cells}{m['ms']:>9.1f}")
        plain.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
