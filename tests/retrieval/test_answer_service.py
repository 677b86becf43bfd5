"""The answer service over a scripted gateway: cited answers, escalation, degradation,
the review queue, the response cache's scopes and the byte-identical prompt prefix."""

from __future__ import annotations

from typing import Any

import pytest

from kernel.errors import InvalidRequest
from retrieval.answer_types import AskFilters
from retrieval.sparse import SparseEncoder
from retrieval.store.base import IndexStore
from testkit.embedders import FakeEmbedder
from testkit.faults import Fault
from testkit.scripted import Reply as Scripted
from tests.retrieval.helpers import HAIKU, HR, LEGAL, OPUS, OUTSIDER, SONNET, Rig

Q = "How much notice to terminate for convenience?"


@pytest.fixture
def rig(
    corpus_store: IndexStore,
    fake_embedder: FakeEmbedder,
    sparse_encoder: SparseEncoder,
    engine: Any,
) -> Rig:
    return Rig(corpus_store, fake_embedder, sparse_encoder, engine)


async def test_a_good_first_answer_is_cited_and_costed(rig: Rig) -> None:
    rig.anthropic.push(Scripted("Ninety days' notice, clause 9.2 [1]."), model=HAIKU)
    answer = await rig.service.ask(Q, principal=LEGAL)
    assert answer.confident and answer.degraded is None
    assert answer.model == "claude-haiku-4-5" and answer.tier == 0
    [cite] = answer.citations
    assert cite.n == 1 and cite.doc_id == "msa-contoso"
    assert cite.title == "Master Services Agreement Contoso"
    assert cite.section.startswith("9.2 Termination for convenience")
    assert cite.source == "corpus/msa-contoso.md" and cite.score > 0
    assert answer.tokens.input == 10 and answer.tokens.output == 5
    assert answer.cost_usd == pytest.approx((10 * 1.0 + 5 * 5.0) / 1e6)
    assert answer.prompt_version is not None and answer.prompt_version.startswith("answer@")
    [row] = rig.ledger.requests()
    assert row.request_id == answer.request_id


async def test_a_weak_answer_escalates_to_the_next_tier(rig: Rig) -> None:
    rig.anthropic.push(Scripted("The sources do not contain the answer."), model=HAIKU)
    rig.anthropic.push(Scripted("Ninety days [1]."), model=SONNET)
    answer = await rig.service.ask(Q, principal=LEGAL)
    assert answer.confident and answer.model == "claude-sonnet-4-6" and answer.tier == 1
    first = answer.escalations[0]
    assert (first.tier, first.model, first.outcome) == (0, "claude-haiku-4-5", "escalated")
    assert first.reason is not None and "not_in_sources" in first.reason
    assert len(rig.anthropic.calls) == 2


async def test_every_tier_weak_degrades_to_passages_and_queues_a_review(rig: Rig) -> None:
    for model, text in ((HAIKU, "It is 90 days."), (SONNET, "See [7]."), (OPUS, "I can't help.")):
        rig.anthropic.push(Scripted(text), model=model)
    answer = await rig.service.ask(Q, principal=LEGAL)
    assert not answer.confident and answer.degraded == "no_confident_answer"
    assert answer.answer.startswith("No confident answer.")
    assert answer.passages and answer.passages[0].doc_id == "msa-contoso"
    assert [c.n for c in answer.citations] == list(range(1, len(answer.passages) + 1))
    assert "[1] Master Services Agreement Contoso" in answer.answer
    assert [s.outcome for s in answer.escalations] == ["escalated", "escalated", "ok"]
    assert answer.review_id is not None and rig.review is not None
    item = rig.review.get(answer.review_id)
    assert item.question == Q and item.draft_answer == "I can't help."
    assert item.reason == "no_confident_answer: refusal" and item.asker_user_id == "lena"
    assert item.passages[0]["doc_id"] == "msa-contoso"
    # a degraded answer is never cached
    rig.anthropic.push(Scripted("Ninety days [1]."), model=HAIKU)
    again = await rig.service.ask(Q, principal=LEGAL)
    assert again.confident and not again.cached


async def test_no_model_reachable_returns_marked_passages(rig: Rig) -> None:
    for _ in range(20):
        rig.anthropic.push(Fault.status(500))
    answer = await rig.service.ask(Q, principal=LEGAL)
    assert answer.degraded == "no_model_reachable" and not answer.confident
    assert answer.answer.startswith("NO MODEL REACHABLE: this is not an answer.")
    assert answer.passages[0].doc_id == "msa-contoso"
    assert answer.review_id is None


async def test_no_provider_configured_at_all_degrades_too(
    corpus_store: IndexStore,
    fake_embedder: FakeEmbedder,
    sparse_encoder: SparseEncoder,
    engine: Any,
) -> None:
    rig = Rig(corpus_store, fake_embedder, sparse_encoder, engine, anthropic=False)
    answer = await rig.service.ask(Q, principal=LEGAL)
    assert answer.degraded == "no_model_reachable" and answer.passages


async def test_nothing_readable_means_no_model_call(rig: Rig) -> None:
    answer = await rig.service.ask(
        "terminate convenience", principal=OUTSIDER, filters=AskFilters(doc_types=["contract"])
    )
    assert answer.degraded == "no_confident_answer" and answer.passages == []
    assert rig.anthropic.calls == []
    assert answer.review_id is not None


async def test_cache_is_per_access_scope_and_per_index_version(rig: Rig) -> None:
    rig.anthropic.push(Scripted("Ninety days [1]."), model=HAIKU)
    first = await rig.service.ask(Q, principal=LEGAL)
    assert not first.cached
    hit = await rig.service.ask("  how much NOTICE to terminate for convenience ", principal=LEGAL)
    assert hit.cached and hit.answer == first.answer and hit.cost_usd == 0.0
    assert len(rig.anthropic.calls) == 1
    # Another scope never gets Legal's cached answer (nor Legal's sources).
    rig.anthropic.push(Scripted("The office opens at eight [1]."), model=HAIKU)
    hr = await rig.service.ask(Q, principal=HR)
    assert not hr.cached
    assert all(p.doc_id != "msa-contoso" for p in hr.passages)
    assert len(rig.anthropic.calls) == 2
    # Any ingestion changes the index version: the cached answer is not read again.
    rig.reindex()
    rig.anthropic.push(Scripted("Ninety days [1]."), model=HAIKU)
    fresh = await rig.service.ask(Q, principal=LEGAL)
    assert not fresh.cached and len(rig.anthropic.calls) == 3


async def test_prefix_is_byte_identical_across_questions(rig: Rig) -> None:
    rig.anthropic.push(Scripted("a [1]."), Scripted("b [1]."), model=HAIKU)
    await rig.service.ask(Q, principal=LEGAL)
    await rig.service.ask("What is the liability cap?", principal=LEGAL)
    one, two = rig.anthropic.calls
    assert one.system == two.system
    assert isinstance(one.system, list) and one.system[-1]["cache_control"] == {"type": "ephemeral"}
    assert one.messages != two.messages
    text_one = one.messages[0]["content"][0]["text"]
    assert text_one.startswith("Sources:\n\n[1] ") and text_one.endswith(f"Question: {Q}")


async def test_bad_input_is_refused_before_any_work(rig: Rig) -> None:
    with pytest.raises(InvalidRequest, match="empty"):
        await rig.service.ask("   ", principal=LEGAL)
    with pytest.raises(InvalidRequest, match="unknown type"):
        await rig.service.ask(Q, principal=LEGAL, filters=AskFilters(doc_types=["memo"]))
    with pytest.raises(InvalidRequest, match="top_k"):
        await rig.service.search(Q, principal=LEGAL, top_k=0)
    assert rig.anthropic.calls == []
