"""The answer service against the wire emulator (Anthropic Messages API on 127.0.0.1):
escalation, degradation into the review queue, no model reachable, prompt-cache reads,
and the streamed answer."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway.ledger import MemoryLedger
from retrieval.answer import AnswerService
from retrieval.ask_events import Delta, Final, Retract
from retrieval.sparse import SparseEncoder
from testkit.embedders import FakeEmbedder
from testkit.emulator import EmulatorServer
from testkit.faults import Fault
from tests.retrieval.helpers import CORPUS, LEGAL, make_store, points
from tests.retrieval.wire import WireRig

pytestmark = pytest.mark.wire
Q = "How much notice to terminate this Agreement for convenience?"


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorServer]:
    with EmulatorServer() as emu:
        yield emu


@pytest.fixture
async def service_for(
    emulator: EmulatorServer,
    tmp_path: Path,
    engine: Any,
    fake_embedder: FakeEmbedder,
    sparse_encoder: SparseEncoder,
) -> AsyncIterator[Any]:
    """Builds the answer service (and its ledger) with settings given as field values."""
    emulator.reset()
    store = make_store("edge", tmp_path)
    store.ensure_collection(fake_embedder.dim)
    store.upsert(points(CORPUS, fake_embedder, sparse_encoder))
    rigs: list[WireRig] = []

    def build(**settings: Any) -> tuple[AnswerService, MemoryLedger]:
        rig = WireRig(emulator, store, fake_embedder, sparse_encoder, engine, **settings)
        rigs.append(rig)
        return rig.service, rig.ledger

    yield build
    for rig in rigs:
        await rig.aclose()
    store.close()


def uncited(_body: dict[str, Any]) -> str:
    return "Probably ninety days."


async def test_haiku_not_found_escalates_to_sonnet_which_cites(
    emulator: EmulatorServer, service_for: Any
) -> None:
    emulator.set_reply("claude-haiku-4-5", "The sources do not contain the answer.")
    service, ledger = service_for()
    answer = await service.ask(Q, principal=LEGAL)
    assert answer.confident and answer.model == "claude-sonnet-4-6"
    assert answer.citations and answer.citations[0].doc_id == "msa-contoso"
    assert answer.escalations[0].outcome == "escalated"
    models = [r.model for r in emulator.requests if r.path == "/v1/messages"]
    assert models[0].startswith("claude-haiku-4-5") and models[1].startswith("claude-sonnet")
    assert len(ledger.attempts(answer.request_id)) == 2


async def test_all_tiers_weak_degrade_and_queue(emulator: EmulatorServer, service_for: Any) -> None:
    for prefix in ("claude-haiku-4-5", "claude-sonnet-4-6", "claude-opus-4-8"):
        emulator.set_responder(prefix, uncited)
    service, _ = service_for()
    answer = await service.ask(Q, principal=LEGAL)
    assert answer.degraded == "no_confident_answer" and answer.review_id
    assert answer.passages[0].doc_id == "msa-contoso"
    assert answer.tokens.input > 0 and answer.cost_usd > 0  # three tiers were paid for
    assert service.review is not None
    assert service.review.get(answer.review_id).reason == "no_confident_answer: no_citation"


async def test_upstream_down_returns_marked_passages(
    emulator: EmulatorServer, service_for: Any
) -> None:
    emulator.faults.push(Fault.status(500), times=50)
    service, _ = service_for()
    answer = await service.ask(Q, principal=LEGAL)
    assert answer.degraded == "no_model_reachable"
    assert answer.answer.startswith("NO MODEL REACHABLE") and answer.passages


async def test_padded_prefix_is_read_from_the_prompt_cache(
    emulator: EmulatorServer, service_for: Any
) -> None:
    service, _ = service_for(prompt_cache_padding="always")
    first = await service.ask(Q, principal=LEGAL)
    second = await service.ask("What is the liability cap of each party?", principal=LEGAL)
    assert first.confident and second.confident
    assert first.tokens.cache_write >= 4096 and first.tokens.cache_read == 0
    assert second.tokens.cache_read == first.tokens.cache_write
    assert second.cost_usd < first.cost_usd


async def test_unpadded_prefix_below_the_minimum_is_not_cached(
    emulator: EmulatorServer, service_for: Any
) -> None:
    service, _ = service_for(prompt_cache_padding="never")
    await service.ask(Q, principal=LEGAL)
    again = await service.ask("What is the liability cap of each party?", principal=LEGAL)
    assert again.tokens.cache_read == 0 and again.tokens.cache_write == 0


async def test_stream_sends_deltas_then_the_cited_answer(service_for: Any) -> None:
    service, ledger = service_for()
    events = [e async for e in service.ask_stream(Q, principal=LEGAL)]
    deltas = "".join(e.text for e in events if isinstance(e, Delta))
    final = events[-1]
    assert isinstance(final, Final) and final.answer.confident
    assert deltas == final.answer.answer and final.answer.citations
    assert [r.stream for r in ledger.requests()] == [True]


async def test_weak_stream_is_retracted_then_escalated(
    emulator: EmulatorServer, service_for: Any
) -> None:
    emulator.set_responder("claude-haiku-4-5", uncited)
    service, _ = service_for()
    events = [e async for e in service.ask_stream(Q, principal=LEGAL)]
    kinds = [type(e).__name__ for e in events]
    assert "Retract" in kinds and kinds[-1] == "Final"
    retract = next(e for e in events if isinstance(e, Retract))
    assert "no_citation" in retract.reason
    final = events[-1]
    assert isinstance(final, Final)
    assert final.answer.confident and final.answer.model == "claude-sonnet-4-6"
    assert final.answer.escalations[0].model == "claude-haiku-4-5"
