"""Citation parsing and mapping, and the judge's escalation signals."""

from __future__ import annotations

import pytest

from gateway.types import ModelResponse
from retrieval.citations import check_citations, cited_numbers, map_citations
from retrieval.context_builder import Source
from retrieval.judge import AnswerJudge, assess


def source(n: int, ids: tuple[str, ...] = ()) -> Source:
    return Source(
        n=n,
        chunk_ids=ids or (f"chunk-{n}",),
        doc_id=f"doc-{n}",
        title=f"Title {n}",
        section=f"{n}.1 Clause",
        source=f"docs/{n}.md",
        doc_type="contract",
        score=1.0 / n,
        text=f"text {n}",
    )


@pytest.mark.parametrize(
    ("text", "numbers"),
    [
        ("Notice is 90 days [2].", [2]),
        ("A [1][3] and B [1, 2].", [1, 3, 2]),
        ("Range [2-4] here.", [2, 3, 4]),
        ("See [Source 5] and [sources 1,2].", [5, 1, 2]),
        ("No markers at all, only 2024 and [a].", []),
    ],
)
def test_cited_numbers(text: str, numbers: list[int]) -> None:
    assert cited_numbers(text) == numbers


def test_citations_map_back_to_title_clause_source_chunk_and_score() -> None:
    sources = [source(1), source(2, ("c2a", "c2b"))]
    cites = map_citations("Term is 90 days [2]. Cap is fees [1] [9].", sources)
    assert [c.n for c in cites] == [2, 1]
    c = cites[0]
    assert (c.chunk_id, c.chunk_ids, c.doc_id, c.title, c.section, c.source) == (
        "c2a",
        ["c2a", "c2b"],
        "doc-2",
        "Title 2",
        "2.1 Clause",
        "docs/2.md",
    )
    assert c.score == pytest.approx(0.5)
    assert check_citations("x [9]", 2).invalid == (9,)


@pytest.mark.parametrize(
    ("text", "n", "ok", "reason"),
    [
        ("Either party may terminate with 90 days' notice [1].", 2, True, "ok"),
        ("It is 90 days [3].", 2, False, "invalid_citation"),
        ("It is 90 days.", 2, False, "no_citation"),
        ("The sources do not contain the answer.", 2, False, "not_in_sources"),
        ("The provided documents don't mention remote work.", 2, False, "not_in_sources"),
        ("I'm sorry, but I can't help with that.", 2, False, "refusal"),
        ("I cannot assist with this request [1].", 2, False, "refusal"),
        ("", 2, False, "empty_answer"),
        ("Laptops need encryption [1]. The sources say nothing about phones.", 2, True, "ok"),
    ],
)
def test_judge_signals(text: str, n: int, ok: bool, reason: str) -> None:
    verdict = assess(text, n)
    assert verdict.ok is ok
    assert verdict.reason.startswith(reason)


def test_judge_reads_the_refusal_stop_reason() -> None:
    resp = ModelResponse(
        id="m",
        provider="p",
        model_alias="a",
        model_id="a",
        content=[{"type": "text", "text": "Fine [1]."}],
        stop_reason="refusal",
    )
    assert AnswerJudge(1)(resp).reason == "refusal"


def test_degraded_listing_does_not_repeat_the_title_in_the_section() -> None:
    from retrieval.answer_assembly import passage_listing

    src = Source(
        1,
        ("c",),
        "d",
        "Leave Guide",
        "Leave Guide > PTO > Carryover",
        "hr/leave.md",
        "doc",
        0.5,
        "text",
    )
    assert passage_listing([src]) == "[1] Leave Guide - PTO > Carryover (hr/leave.md)"
