"""What contextual retrieval costs at ingestion, and that the prompt cache pays for each
document about once (issue 13, item 2).

A folder (default: the earnings calls in ``../shared/data/docugami_earnings_calls/docs``) is
ingested with ``LOREGATE_CHUNK_CONTEXT=model`` through loregate's own gateway, whose Anthropic
provider is the production one pointed at the wire emulator (real HTTP; prompt caching as
documented: Haiku's 4,096-token minimum, reads at 0.1x). The emulator writes a fixed
60-token context, so the figures are of cost and caching, not of context quality. Printed, from
the ledger rows of the job (``source=ingest``, tag ``ingest:<job>``):

- calls, documents, cache-write calls, cache-read calls, the share of input tokens read from
  the cache;
- the job's cost, and what the same calls cost without prompt caching (every input token at
  the input price), and their ratio;
- a second ingestion of the unchanged folder: its model calls (0 expected).

    .venv/bin/python benchmarks/contextual_cost.py [--folder DIR] [--fake-embedder]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from loregate.offline import configure_offline  # noqa: E402

configure_offline()

import sqlalchemy as sa  # noqa: E402

from gateway.ledger.tables import ledger as ledger_table  # noqa: E402
from ingest.chunk_contexts import JobTag  # noqa: E402
from loregate.graph import Loregate  # noqa: E402
from loregate.overrides import Overrides  # noqa: E402
from loregate.settings import Settings  # noqa: E402
from testkit.emulator import EmulatorServer  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "docugami_earnings_calls" / "docs"
HAIKU = "claude-haiku-4-5"
CONTEXT = " ".join(["This passage situates a chunk within its earnings call transcript."] * 6)


def _context(_body: dict[str, Any]) -> str:
    return CONTEXT


def _rows(graph: Loregate, job_id: str) -> list[Any]:
    graph.ledger_writer.flush()
    t = ledger_table.c
    query = sa.select(ledger_table).where(t.tag == f"ingest:{job_id}", t.kind == "attempt")
    with graph.engine.connect() as conn:
        return list(conn.execute(query.order_by(t.id)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--folder", type=Path, default=DATA)
    parser.add_argument("--fake-embedder", action="store_true", help="skip the real model")
    args = parser.parse_args()
    if not args.folder.is_dir():
        raise SystemExit(f"no folder {args.folder}")
    with EmulatorServer() as emu, tempfile.TemporaryDirectory() as home:
        emu.set_responder(HAIKU, _context)
        defaults = {n: f.default for n, f in Settings.model_fields.items()}
        settings = Settings(
            **{
                **defaults,
                "home": Path(home),
                "anthropic_api_key": "emulator",
                "anthropic_base_url": emu.base_url,
                "chunk_context": "model",
            }
        )
        overrides: dict[str, Any] = {"providers": {"openai": None, "local": None}}
        if args.fake_embedder:
            from testkit.embedders import FakeEmbedder

            overrides["embedder"] = FakeEmbedder()
        graph = Loregate(settings, Overrides(**overrides))
        graph.migrate()
        try:
            t0 = time.perf_counter()
            report = graph.ingestor().ingest_path([args.folder], job=JobTag.of("bench1", "bench"))
            seconds = time.perf_counter() - t0
            if not report.ok:
                raise SystemExit(f"ingestion failed: {report.failed}")
            rows = _rows(graph, "bench1")
            prices = graph.catalogue.config.models[HAIKU].prices
            _print(rows, prices, report.chunks_written, len(report.added), seconds)
            before = sum(1 for r in emu.requests if r.path == "/v1/messages")
            again = graph.ingestor().ingest_path([args.folder], job=JobTag.of("bench2", "bench"))
            after = sum(1 for r in emu.requests if r.path == "/v1/messages")
            print(
                f"re-ingest of the unchanged folder: {len(again.unchanged)} unchanged, "
                f"{after - before} model calls, {len(_rows(graph, 'bench2'))} ledger rows"
            )
        finally:
            asyncio.run(graph.aclose())


def _print(rows: list[Any], prices: Any, chunks: int, docs: int, seconds: float) -> None:
    per_m = Decimal(1_000_000)
    inputs = sum(r.input_tokens for r in rows)
    writes = sum(r.cache_write_5m_tokens + r.cache_write_1h_tokens for r in rows)
    reads = sum(r.cache_read_tokens for r in rows)
    output = sum(r.output_tokens for r in rows)
    cost = Decimal(sum(r.cost_nano_usd for r in rows)) / Decimal(1_000_000_000)
    uncached = (Decimal(inputs + writes + reads) * prices.input + output * prices.output) / per_m
    print(f"documents {docs}, chunks {chunks}, context calls {len(rows)} in {seconds:.1f} s")
    print(
        f"calls writing the cache {sum(r.cache_write_5m_tokens > 0 for r in rows)}, "
        f"reading it {sum(r.cache_read_tokens > 0 for r in rows)}; input tokens read from the "
        f"cache {reads / max(1, inputs + writes + reads):.1%}"
    )
    print(
        f"job cost ${cost:.4f} (${cost / max(1, docs):.4f} per document); without prompt "
        f"caching ${uncached:.4f}: caching saves {1 - cost / uncached:.1%} "
        f"(x{uncached / cost:.1f})"
    )


if __name__ == "__main__":
    main()
