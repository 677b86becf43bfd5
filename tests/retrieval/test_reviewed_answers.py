"""Reviewed answers are served back: after a reviewer approves or rewrites a queued answer, the
same question from the same access scope gets it (marked reviewed, no model call), until a
rejection, a change of a cited document or of the prompt withdraws it. Against the emulator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from governance.prompt_types import PromptVersion
from kernel.principal import Principal
from retrieval.answer_types import Answer, AskFilters
from retrieval.ask_events import Delta, Final
from retrieval.prompt_source import PackagedPrompts
from retrieval.review import ReviewQueue
from retrieval.sparse import SparseEncoder
from retrieval.store.base import IndexStore
from testkit.embedders import FakeEmbedder
from testkit.emulator import EmulatorServer
from tests.retrieval.helpers import CORPUS, LEGAL, Doc, chunk_id
from tests.retrieval.wire import WireRig, corpus_store, index

pytestmark = pytest.mark.wire
Q = "How much notice to terminate this Agreement for convenience?"
SAME_Q = "  how much notice to terminate this agreement   for convenience "
MODELS = ("claude-haiku-4-5", "claude-sonnet-4-6", "claude-opus-4-8")
FABRIKAM = Doc(
    "msa-fabrikam",
    ["Fabrikam may terminate this Agreement for convenience with thirty days notice."],
    access=["dept:legal"],
    title="Master Services Agreement Fabrikam",
    doc_type="contract",
    department="legal",
    sections=["8.1 Termination for convenience"],
)
TWO_MSAS = [*CORPUS, FABRIKAM]


def uncited(_body: dict[str, Any]) -> str:
    return "Probably ninety days."


@pytest.fixture
def weak_models(emu: EmulatorServer) -> EmulatorServer:
    """Every tier answers without citing: every ask degrades and is queued for review."""
    for m in MODELS:
        emu.set_responder(m, uncited)
    return emu


class Setup:
    def __init__(
        self,
        emu: EmulatorServer,
        tmp_path: Path,
        embedder: FakeEmbedder,
        sparse: SparseEncoder,
        engine: Any,
    ) -> None:
        self.emu, self.tmp_path, self.embedder, self.sparse, self.engine = (
            emu,
            tmp_path,
            embedder,
            sparse,
            engine,
        )
        self.stores: list[IndexStore] = []
        self.rigs: list[WireRig] = []

    def store(self, backend: str = "edge", docs: list[Doc] | None = None) -> IndexStore:
        root = self.tmp_path / f"s{len(self.stores)}"
        s = corpus_store(backend, root, self.embedder, self.sparse, docs)
        self.stores.append(s)
        return s

    def rig(self, store: IndexStore, **kw: Any) -> WireRig:
        r = WireRig(self.emu, store, self.embedder, self.sparse, self.engine, **kw)
        self.rigs.append(r)
        return r

    def reindex(self, store: IndexStore, docs: list[Doc], content_hash: str) -> None:
        index(store, self.embedder, self.sparse, docs, content_hash)


@pytest.fixture
async def setup(
    weak_models: EmulatorServer,
    tmp_path: Path,
    fake_embedder: FakeEmbedder,
    sparse_encoder: SparseEncoder,
    engine: Any,
) -> AsyncIterator[Setup]:
    s = Setup(weak_models, tmp_path, fake_embedder, sparse_encoder, engine)
    yield s
    for r in s.rigs:
        await r.aclose()
    for st in s.stores:
        st.close()


async def degraded(r: WireRig, principal: Principal = LEGAL, **kw: Any) -> Answer:
    answer = await r.service.ask(Q, principal=principal, **kw)
    assert answer.degraded == "no_confident_answer" and answer.review_id
    assert answer.reviewed is None
    return answer


def queue(r: WireRig) -> ReviewQueue:
    assert r.review is not None
    return r.review


@pytest.mark.parametrize("backend", ["edge", "memory"])
async def test_a_rewritten_answer_is_served_back_with_its_citations(
    setup: Setup, backend: str
) -> None:
    r = setup.rig(setup.store(backend))
    first = await degraded(r)
    assert first.review_id is not None
    queue(r).rewrite(first.review_id, reviewer="rita", answer="Ninety days' notice [1].")
    asked = len(r.models())

    again = await r.service.ask(SAME_Q, principal=LEGAL)
    assert r.models() == r.models()[:asked]  # no model call
    assert again.confident and again.degraded is None and again.answer == "Ninety days' notice [1]."
    assert again.reviewed is not None
    assert (again.reviewed.review_id, again.reviewed.decision, again.reviewed.reviewer) == (
        first.review_id,
        "rewritten",
        "rita",
    )
    assert again.reviewed.decided_at.tzinfo is not None
    (cite,) = again.citations
    assert cite.n == 1 and cite.doc_id == "msa-contoso"
    assert cite.chunk_ids == [chunk_id("msa-contoso", 0), chunk_id("msa-contoso", 1)]
    assert "ninety days notice" in cite.text  # the passage as the store holds it now
    assert again.passages and again.cost_usd == 0.0 and again.tokens.input == 0
    assert again.review_id is None and again.question == SAME_Q.strip()
    assert queue(r).stats().counts == {"rewritten": 1}  # nothing queued again


async def test_an_approved_draft_is_served_with_the_model_that_drafted_it(setup: Setup) -> None:
    r = setup.rig(setup.store())
    first = await degraded(r)
    assert first.review_id is not None
    queue(r).approve(first.review_id, reviewer="rita", note="fine")
    again = await r.service.ask(Q, principal=LEGAL)
    assert again.answer == "Probably ninety days." and again.confident
    assert again.reviewed is not None and again.reviewed.decision == "approved"
    assert again.model == "claude-opus-4-8" and again.tier is None
    assert again.citations == [] and again.passages[0].doc_id == "msa-contoso"


async def test_a_reviewed_answer_never_crosses_access_scopes_or_filters(setup: Setup) -> None:
    r = setup.rig(setup.store())
    first = await degraded(r)
    assert first.review_id is not None
    queue(r).rewrite(first.review_id, reviewer="rita", answer="Ninety days [1].")
    colleague = Principal(user_id="larry", department="legal")
    in_a_group = LEGAL.model_copy(update={"groups": ("m-and-a",)})
    for principal in (colleague, in_a_group):
        await degraded(r, principal)
    await degraded(r, LEGAL, filters=AskFilters(doc_types=["contract"]))
    assert queue(r).stats().counts == {"rewritten": 1, "queued": 3}
    assert (await r.service.ask(Q, principal=LEGAL)).reviewed is not None


async def test_a_rejection_is_never_served_and_the_latest_decision_wins(setup: Setup) -> None:
    r = setup.rig(setup.store())
    a = await degraded(r)
    b = await degraded(r)  # asked again while the first waits: queued under the same key
    assert a.review_id and b.review_id
    q = queue(r)
    assert q.get(a.review_id).answer_key == q.get(b.review_id).answer_key
    q.approve(a.review_id, reviewer="rita")
    q.reject(b.review_id, reviewer="ravi", note="wrong clause")  # withdraws the approval
    c = await degraded(r)
    assert c.review_id is not None
    q.rewrite(c.review_id, reviewer="rita", answer="Ninety days [1].")
    served = await r.service.ask(Q, principal=LEGAL)
    assert served.reviewed is not None and served.reviewed.review_id == c.review_id


async def test_a_rejected_answer_alone_is_not_served(setup: Setup) -> None:
    r = setup.rig(setup.store())
    a = await degraded(r)
    assert a.review_id is not None
    queue(r).reject(a.review_id, reviewer="rita")
    await degraded(r)


async def test_reviewed_answers_survive_a_restart(setup: Setup) -> None:
    store = setup.store()
    r = setup.rig(store)
    first = await degraded(r)
    assert first.review_id is not None
    queue(r).rewrite(first.review_id, reviewer="rita", answer="Ninety days [1].")
    restarted = setup.rig(store)  # a new queue, service and gateway on the same database
    again = await restarted.service.ask(Q, principal=LEGAL)
    assert again.reviewed is not None and again.answer == "Ninety days [1]."


async def test_re_ingesting_a_cited_document_with_new_content_withdraws_the_answer(
    setup: Setup,
) -> None:
    store = setup.store()
    r = setup.rig(store)
    first = await degraded(r)
    assert first.review_id is not None
    queue(r).rewrite(first.review_id, reviewer="rita", answer="Ninety days [1].")
    setup.reindex(store, CORPUS, "h1")  # the same content again: still served
    assert (await r.service.ask(Q, principal=LEGAL)).reviewed is not None
    setup.reindex(store, CORPUS, "h2")  # the contract changed
    asked = len(r.models())
    again = await degraded(r)
    assert len(r.models()) > asked  # the models were asked again
    assert again.review_id != first.review_id


async def test_an_uncited_document_that_changed_does_not_withdraw_it(setup: Setup) -> None:
    store = setup.store(docs=TWO_MSAS)
    r = setup.rig(store)
    first = await degraded(r)
    assert first.review_id is not None
    item = queue(r).get(first.review_id)
    n_of = {p["doc_id"]: p["n"] for p in item.passages}
    assert {"msa-contoso", "msa-fabrikam"} <= set(n_of)
    queue(r).rewrite(
        first.review_id, reviewer="rita", answer=f"Ninety days [{n_of['msa-contoso']}]."
    )
    setup.reindex(store, [FABRIKAM], "h2")
    again = await r.service.ask(Q, principal=LEGAL)
    assert again.reviewed is not None
    assert [c.doc_id for c in again.citations] == ["msa-contoso"]


@pytest.mark.parametrize("backend", ["edge", "memory"])
async def test_sources_deleted_or_hidden_are_dropped_and_none_left_means_not_served(
    setup: Setup, backend: str
) -> None:
    store = setup.store(backend, docs=TWO_MSAS)
    r = setup.rig(store)
    first = await degraded(r)
    assert first.review_id is not None
    n_of = {p["doc_id"]: p["n"] for p in queue(r).get(first.review_id).passages}
    text = (
        f"Contoso: ninety days [{n_of['msa-contoso']}]; Fabrikam: thirty [{n_of['msa-fabrikam']}]."
    )
    queue(r).rewrite(first.review_id, reviewer="rita", answer=text)
    both = await r.service.ask(Q, principal=LEGAL)
    assert {c.doc_id for c in both.citations} == {"msa-contoso", "msa-fabrikam"}

    store.delete([chunk_id("msa-fabrikam", 0)])  # the Fabrikam contract was removed
    one = await r.service.ask(Q, principal=LEGAL)
    assert one.reviewed is not None and one.answer == text
    assert [c.doc_id for c in one.citations] == ["msa-contoso"]
    assert "msa-fabrikam" not in {p.doc_id for p in one.passages}

    hidden = Doc(**{**CORPUS[0].__dict__, "access": ["dept:hr"]})  # same content, now HR-only
    setup.reindex(store, [hidden], "h1")
    await degraded(r)  # nothing it cited is left for this asker: the models are asked again


async def test_a_prompt_version_change_means_a_new_review(setup: Setup, tmp_path: Path) -> None:
    class Switch:
        def __init__(self) -> None:
            self.current: PackagedPrompts = PackagedPrompts()

        def active(self, prompt_id: str) -> PromptVersion:
            return self.current.active(prompt_id)

    prompts = Switch()
    r = setup.rig(setup.store(), prompts=prompts)
    first = await degraded(r)
    assert first.review_id is not None
    queue(r).rewrite(first.review_id, reviewer="rita", answer="Ninety days [1].")
    template = PackagedPrompts().active("answer").text + "\nBe brief.\n"
    (tmp_path / "answer.md").write_text(template, encoding="utf-8")
    prompts.current = PackagedPrompts({"answer": tmp_path / "answer.md"})
    again = await degraded(r)
    assert again.prompt_version != first.prompt_version


async def test_a_streamed_ask_gets_the_reviewed_answer_in_one_delta(setup: Setup) -> None:
    r = setup.rig(setup.store())
    first = await degraded(r)
    assert first.review_id is not None
    queue(r).rewrite(first.review_id, reviewer="rita", answer="Ninety days [1].")
    asked = len(r.models())
    events = [e async for e in r.service.ask_stream(Q, principal=LEGAL)]
    assert [type(e) for e in events] == [Delta, Final]
    final = events[-1]
    assert isinstance(final, Final) and final.answer.reviewed is not None
    assert events[0] == Delta("Ninety days [1].") and len(r.models()) == asked


async def test_an_ask_with_no_relevant_source_can_be_answered_by_a_reviewer(
    setup: Setup,
) -> None:
    # An absolute relevance floor above every fused score: no sources, no model call.
    r = setup.rig(setup.store(), min_relevance=0.99)
    first = await r.service.ask(Q, principal=LEGAL)
    assert first.degraded == "no_confident_answer" and first.passages == []
    assert r.models() == [] and first.review_id is not None
    assert queue(r).get(first.review_id).reason == "no_sources"
    queue(r).rewrite(first.review_id, reviewer="rita", answer="Ask Legal: it depends on the MSA.")
    again = await r.service.ask(Q, principal=LEGAL)
    assert again.reviewed is not None and again.citations == [] and again.passages == []
