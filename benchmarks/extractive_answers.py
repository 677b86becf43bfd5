"""The extractive answerer on a public question set: speed, and its confidence calibrated.

For every question the sources are what loregate's answer service would send (hybrid search
over the dataset's corpus, in its own collection, then the context builder); the extractive
provider answers from them, timed alone. An answer is *right* when a source it cites is one of
the question's gold documents; its token F1 against the reference answer is reported too.

Every question is also asked once more with another question's sources (a negative control:
nothing in them answers it, as when an employee asks about documents they may not read): a
confident answer there is wrong by construction. Without these, a threshold would only learn
how good retrieval is on this set, never when to decline.

Calibration, as issue 12 asks: the confidence threshold is chosen on one half of the questions
(even positions, each paired with an even question's sources) as the lowest that keeps the
precision of confident answers, controls included, at the target (default 0.90), then reported
on the other half (odd positions), which never saw it: the share of its real questions answered
confidently (coverage), the precision of confident answers, and their token F1. The shipped
``min_confidence`` of the ``extractive`` model (gateway/defaults.toml) is the value printed.

    .venv/bin/python benchmarks/extractive_answers.py [--dataset DIR] [--home DIR]
        [--target 0.92]

``--home`` keeps the ingested index between runs (the first run embeds the corpus).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from loregate.offline import configure_offline  # noqa: E402

configure_offline()

from evals.dataset_loader import load_dataset  # noqa: E402
from evals.metrics.answer_overlap import token_f1  # noqa: E402
from gateway.providers.extractive import ExtractiveProvider  # noqa: E402
from gateway.types import ModelRequest  # noqa: E402
from loregate import eval_parts  # noqa: E402
from loregate.graph import Loregate  # noqa: E402
from loregate.settings import load_settings  # noqa: E402
from retrieval.prompt_layout import messages  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "anthropic_docs_rag"
_CITE = re.compile(r"\[(\d+)\]")


@dataclass(frozen=True)
class Outcome:
    confidence: float
    right: bool  # a cited source is a gold document
    f1: float
    ms: float
    answerable: bool = True  # False: a negative control (another question's sources)


async def outcomes(dataset_dir: Path, home: Path) -> list[Outcome]:
    dataset = load_dataset(dataset_dir)
    assert dataset.corpus is not None, f"{dataset_dir} has no corpus"
    graph = Loregate(load_settings(home=home))
    graph.migrate()
    report = eval_parts.ingest_corpus(graph, dataset.corpus)
    print(f"corpus: {len(dataset.corpus.docs)} documents ({report.chunks_written} chunks embedded)")
    service = graph.answer_service(dataset.corpus.collection)
    provider = graph.catalogue.providers.get("extractive")
    assert isinstance(provider, ExtractiveProvider)
    provider.answer(ModelRequest(model="extractive", messages=[{"role": "user", "content": "x"}]))
    items = dataset.items
    retrieved = [
        await service.retrieve(
            i.question, principal=i.principal.to_principal(), filters=None, route="offline"
        )
        for i in items
    ]
    out = []
    for k, item in enumerate(items):
        # The control's sources: those of the question two places on (same half, other topic).
        control = retrieved[(k + 2) % len(items)]
        for sources, answerable in ((retrieved[k], True), (control, False)):
            request = ModelRequest(model="extractive", messages=messages(sources, item.question))
            t0 = time.perf_counter()
            found = provider.answer(request)
            ms = (time.perf_counter() - t0) * 1000
            cited = {int(n) for n in _CITE.findall(found.text)}
            docs = {s.doc_id for s in sources if s.n in cited}
            right = bool(docs & set(item.reference_doc_ids)) and answerable
            f1 = token_f1(found.text, item.reference)
            out.append(Outcome(found.confidence, right, f1, ms, answerable))
    await graph.aclose()
    return out


def at(threshold: float, rows: list[Outcome]) -> tuple[float, float, float, float]:
    """(coverage of the real questions, precision of every confident answer, mean F1 of the
    confident real answers, share of controls answered confidently) at ``threshold``."""
    kept = [r for r in rows if r.confidence >= threshold and r.confidence > 0]
    real = [r for r in rows if r.answerable]
    controls = [r for r in rows if not r.answerable]
    kept_real = [r for r in kept if r.answerable]
    if not kept:
        return 0.0, 1.0, 0.0, 0.0
    return (
        len(kept_real) / max(1, len(real)),
        sum(r.right for r in kept) / len(kept),
        statistics.fmean(r.f1 for r in kept_real) if kept_real else 0.0,
        (len(kept) - len(kept_real)) / max(1, len(controls)),
    )


def choose(rows: list[Outcome], target: float) -> float:
    """The lowest threshold whose confident answers are right at least ``target`` of the time."""
    for threshold in sorted({round(r.confidence, 2) for r in rows} | {0.0}):
        if at(threshold, rows)[1] >= target:
            return threshold
    return 1.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dataset", type=Path, default=DATA)
    ap.add_argument("--home", type=Path, default=None)
    ap.add_argument("--target", type=float, default=0.90)
    args = ap.parse_args()
    home = args.home or Path(tempfile.mkdtemp(prefix="lg-extractive-"))
    rows = asyncio.run(outcomes(args.dataset, home))
    ms = sorted(r.ms for r in rows if r.answerable)
    p50, p99 = ms[len(ms) // 2], ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    print(f"extractive answer time, {len(ms)} questions: p50 {p50:.1f} ms, p99 {p99:.1f} ms")
    print("  (target p50 <= 20 ms: " + ("met)" if p50 <= 20 else "MISSED)"))
    pairs = [rows[i : i + 2] for i in range(0, len(rows), 2)]  # (real, control) per question
    tune = [r for p in pairs[0::2] for r in p]
    held = [r for p in pairs[1::2] for r in p]
    cov, prec, f1, ctl = at(0.0, rows)
    print(
        f"every answer (no threshold): real questions right {sum(r.right for r in rows)}"
        f"/{sum(r.answerable for r in rows)}, controls answered {ctl:.0%}, token F1 {f1:.3f}"
    )
    threshold = choose(tune, args.target)
    print(f"threshold chosen on the even half (precision >= {args.target}): {threshold:.2f}")
    for label, part in (("even half (chosen on)", tune), ("odd half (held out)", held)):
        cov, prec, f1, ctl = at(threshold, part)
        print(
            f"  {label:<22} confident {cov:.1%} of real questions   precision of confident "
            f"{prec:.3f}   token F1 {f1:.3f}   controls answered {ctl:.1%}"
        )


if __name__ == "__main__":
    main()
