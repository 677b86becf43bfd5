"""The coverage reranker moves up the chunk that covers the whole question and states its
figures, keeps the order of what it does not look at, and changes nothing at weight 0."""

from __future__ import annotations

from retrieval import schema
from retrieval.fusion import Hit
from retrieval.rerank import CoverageConfig, CoverageReranker
from retrieval.sparse import SparseEncoder

QUESTION = "How much did product revenue grow in Q3 2023?"


def hit(i: str, score: float, text: str, title: str = "") -> Hit:
    return Hit(i, score, {schema.TEXT: text, schema.TITLE: title, schema.SECTION: ""})


def hits() -> list[Hit]:
    return [
        hit("a", 0.90, "Revenue revenue revenue: our revenue story in Q1 2022 was strong."),
        hit("b", 0.80, "Product revenue grew 67% year over year.", title="Q3 2023 earnings call"),
        hit("c", 0.10, "Unrelated text about the office."),
        hit("d", 0.05, "Beyond the reranked depth."),
    ]


def test_the_chunk_that_answers_the_whole_question_moves_up() -> None:
    ranked = CoverageReranker(SparseEncoder(), CoverageConfig(weight=0.6, depth=3)).rerank(
        QUESTION, hits()
    )
    assert [h.id for h in ranked] == ["b", "a", "c", "d"]


def test_weight_zero_and_short_lists_keep_the_fused_order() -> None:
    same = CoverageReranker(SparseEncoder(), CoverageConfig(weight=0.0)).rerank(QUESTION, hits())
    assert [h.id for h in same] == ["a", "b", "c", "d"]
    one = CoverageReranker(SparseEncoder()).rerank(QUESTION, hits()[:1])
    assert [h.id for h in one] == ["a"]


def test_the_setting_turns_the_reranker_on(tmp_path: object) -> None:
    from pathlib import Path

    from loregate.answering import reranker
    from testkit.embedders import FakeEmbedder
    from tests.graphs import build_graph, rig_settings

    home = Path(str(tmp_path))
    off = build_graph(rig_settings(home=home / "a"), embedder=FakeEmbedder(dim=8))
    on = build_graph(rig_settings(home=home / "b", rerank_weight=0.6), embedder=FakeEmbedder(dim=8))
    assert reranker(off) is None
    found = reranker(on)
    assert isinstance(found, CoverageReranker) and found.config.weight == 0.6
