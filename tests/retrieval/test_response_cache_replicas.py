"""The response cache is shared by replicas through Redis: an answer one API process cached
is served by another at $0, without a model call (issue 18)."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.ledger.writer import MemoryLedger
from retrieval.store.base import IndexStore
from testkit.embedders import FakeEmbedder
from testkit.scripted import Reply as Scripted
from testkit.scripted import ScriptedProvider
from tests.graphs import rig_graph, rig_settings
from tests.retrieval.helpers import HAIKU, LEGAL, answer_overrides

Q = "How much notice to terminate for convenience?"


@pytest.mark.redis
async def test_an_answer_cached_by_one_replica_is_served_by_the_other(
    corpus_store: IndexStore, fake_embedder: FakeEmbedder, engine: Any, redis_url: str
) -> None:
    settings = rig_settings(redis_url=redis_url)
    providers = [ScriptedProvider("anthropic", keep_calls=True) for _ in range(2)]
    a, b = (
        rig_graph(
            {"anthropic": p},
            settings=settings,
            **answer_overrides(corpus_store, fake_embedder, engine),
            ledger=MemoryLedger(),
        )
        for p in providers
    )
    providers[0].push(Scripted("Ninety days' notice, clause 9.2 [1]."), model=HAIKU)
    first = await a.answer_service().ask(Q, principal=LEGAL)
    assert first.confident and not first.cached

    second = await b.answer_service().ask(Q, principal=LEGAL)
    assert second.cached and second.answer == first.answer
    assert providers[1].calls_for(HAIKU) == []  # replica b never called a model
    await a.aclose()
    await b.aclose()
