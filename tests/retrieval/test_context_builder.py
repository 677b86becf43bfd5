"""The context builder: floor, near-duplicates, budget, adjacent merge, stable numbering."""

from __future__ import annotations

from retrieval import schema
from retrieval.context_builder import ContextBuilder, ContextConfig, merge_sections
from retrieval.fusion import Hit


def hit(i: str, score: float, text: str, doc: str = "d", idx: int = 0, **extra: str) -> Hit:
    payload = {
        schema.TEXT: text,
        schema.DOC_ID: doc,
        schema.CHUNK_INDEX: idx,
        schema.TITLE: f"Title {doc}",
        schema.SECTION: extra.get("section", f"S{idx}"),
        schema.SOURCE: f"{doc}.md",
        schema.DOC_TYPE: "doc",
    }
    return Hit(id=i, score=score, payload=payload)


def words(n: int, seed: str) -> str:
    return " ".join(f"{seed}{i}" for i in range(n))


def count_words(text: str) -> int:
    return len(text.split())


def test_relevance_floor_drops_weak_hits_but_keeps_the_best() -> None:
    b = ContextBuilder(ContextConfig(floor_ratio=0.5), counter=count_words)
    kept = b.select(
        [hit("a", 1.0, "alpha", "d1"), hit("b", 0.6, "beta", "d2"), hit("c", 0.4, "gamma", "d3")]
    )
    assert [h.id for h in kept] == ["a", "b"]
    assert [h.id for h in b.select([hit("x", 0.01, "only")])] == ["x"]


def test_near_duplicates_are_removed_keeping_the_better() -> None:
    text = words(40, "w")
    b = ContextBuilder(ContextConfig(dup_jaccard=0.85), counter=count_words)
    kept = b.select(
        [
            hit("a", 0.9, text, "d1"),
            hit("b", 0.8, text + " extra", "d2"),
            hit("c", 0.7, words(40, "v"), "d3"),
        ]
    )
    assert [h.id for h in kept] == ["a", "c"]


def test_budget_skips_chunks_that_do_not_fit_and_truncates_a_lone_giant() -> None:
    b = ContextBuilder(ContextConfig(budget_tokens=50, floor_ratio=0.0), counter=count_words)
    kept = b.select(
        [
            hit("a", 0.9, words(30, "a"), "d1"),
            hit("b", 0.8, words(30, "b"), "d2"),
            hit("c", 0.7, words(15, "c"), "d3"),
        ]
    )
    assert [h.id for h in kept] == ["a", "c"]
    giant = b.select([hit("g", 0.9, words(500, "g"))])
    assert len(giant) == 1
    assert count_words(giant[0].payload[schema.TEXT]) <= 51  # 50 words + the ellipsis


def test_max_chunks_caps_the_count() -> None:
    b = ContextBuilder(ContextConfig(max_chunks=2, floor_ratio=0.0), counter=count_words)
    kept = b.select([hit(str(i), 1 - i / 10, f"t{i} x{i}", f"d{i}") for i in range(5)])
    assert len(kept) == 2


def test_adjacent_chunks_of_one_document_merge_into_one_source() -> None:
    b = ContextBuilder(ContextConfig(floor_ratio=0.0), counter=count_words)
    sources = b.build(
        [
            hit("a2", 0.7, "second part", "doc", 2, section="2 Terms"),
            hit("a1", 0.9, "first part", "doc", 1, section="1 Scope"),
            hit("z", 0.8, "other doc", "other", 5),
            hit("a4", 0.6, "far part", "doc", 4),
        ]
    )
    assert [s.n for s in sources] == [1, 2, 3]
    first = sources[0]
    assert first.chunk_ids == ("a1", "a2")
    assert first.text == "first part\nsecond part"
    assert first.section == "1 Scope; 2 Terms"
    assert first.score == 0.9
    assert [s.chunk_ids for s in sources[1:]] == [("z",), ("a4",)]


def test_numbering_is_deterministic_whatever_the_input_order() -> None:
    b = ContextBuilder(ContextConfig(floor_ratio=0.0), counter=count_words)
    hits = [hit("b", 0.5, "bb", "d2"), hit("a", 0.5, "aa", "d1"), hit("c", 0.9, "cc", "d3")]
    one = [s.chunk_ids for s in b.build(hits)]
    two = [s.chunk_ids for s in b.build(list(reversed(hits)))]
    assert one == two == [("c",), ("a",), ("b",)]


def test_no_hits_no_sources() -> None:
    assert ContextBuilder().build([]) == []


def test_merged_sections_share_their_breadcrumb_once() -> None:
    assert merge_sections(["Guide > Leave > Accrual", "Guide > Leave > Carryover"]) == (
        "Guide > Leave > Accrual; Carryover"
    )
    assert merge_sections(["Guide", "Guide > Leave"]) == "Guide; Guide > Leave"
    assert merge_sections(["A"]) == "A" and merge_sections([]) == ""
