"""Billing's savings, computed from the ledger rows, reproduce the ratios
``benchmarks/cost_per_answer.py`` prints from the answers, on the same traffic (the answer
service against the wire emulator, prompt caching on, Haiku missing some questions)."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from governance.billing.cache_hits import from_ledger_rows as hits_of
from governance.billing.savings import savings
from governance.billing.usage import from_ledger_rows, prices_from
from retrieval.sparse import SparseEncoder
from testkit.embedders import FakeEmbedder
from testkit.emulator import EmulatorServer
from tests.conftest import ROOT
from tests.retrieval.helpers import CORPUS, LEGAL, make_store, points
from tests.retrieval.wire import WireRig

pytestmark = pytest.mark.wire
QUESTIONS = (
    "How much notice to terminate this Agreement for convenience?",
    "What is the liability cap of each party?",
    "When may a party terminate immediately?",
    "How much paid annual leave do employees accrue?",
    "When does the office open?",
    "Who approves expenses above one thousand euros?",
)


@pytest.fixture(scope="module")
def bench() -> Iterator[ModuleType]:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        yield importlib.import_module("cost_per_answer")
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))


async def test_savings_ratios_reproduce_the_benchmarks(
    bench: Any,
    tmp_path: Path,
    engine: Any,
    fake_embedder: FakeEmbedder,
    sparse_encoder: SparseEncoder,
) -> None:
    store = make_store("edge", tmp_path)
    store.ensure_collection(fake_embedder.dim)
    store.upsert(points(CORPUS, fake_embedder, sparse_encoder))
    with EmulatorServer() as emu:
        emu.set_responder("claude-haiku-4-5", bench.haiku_responder(0.5))
        rig = WireRig(
            emu, store, fake_embedder, sparse_encoder, engine, prompt_cache_padding="always"
        )
        tally = bench.Tally()
        first = []
        for q in QUESTIONS:
            first.append(await rig.service.ask(q, principal=LEGAL))
            bench.tally_answer(tally, first[-1])
        again = await rig.service.ask(QUESTIONS[0], principal=LEGAL)  # the response cache's
        prices = prices_from(rig.graph.catalogue.config)
        await rig.aclose()
    store.close()

    assert again.cached and again.cost_usd == 0 and first[0].cost_usd > 0
    [hit] = [r for r in rig.ledger.rows if r.kind == "cache_hit"]
    assert (hit.request_id, hit.department, hit.cost_nano_usd) == (again.request_id, "legal", 0)
    assert hit.saved_nano_usd == round(first[0].cost_usd * 1e9)
    s = savings(from_ledger_rows(rig.ledger.rows), prices, hits=hits_of(rig.ledger.rows))
    assert s.requests == len(QUESTIONS) and s.escalated == tally.escalated > 0
    assert s.actual_nano / 1e9 == pytest.approx(tally.cost, rel=1e-12)
    assert s.cache_read_share == pytest.approx(bench.cache_read_share(tally), rel=1e-12)
    assert s.later_tiers_share == pytest.approx(bench.later_tiers_share(tally), rel=1e-12)
    assert s.cache_read_share > 0 and 0 < s.later_tiers_share < 1
    # and the counterfactuals point the right way on this traffic
    assert s.without_prompt_cache_nano > s.actual_nano  # caching paid off
    assert s.final_tier_only_nano < s.actual_nano  # what the escalated tries cost
    shown = s.as_dict()
    assert shown["without_prompt_cache"]["saved_nano_usd"] == (
        s.without_prompt_cache_nano - s.actual_nano
    )
    # the hit was served for nothing: without the response cache it is paid again
    assert shown["without_response_cache"]["cache_hits"] == 1
    assert shown["without_response_cache"]["saved_nano_usd"] == hit.saved_nano_usd
