"""The context builder sends a chunk's context header once: in the source's label, not again
at the top of its text (ingestion puts title and breadcrumb in front of every chunk)."""

from __future__ import annotations

from retrieval import schema
from retrieval.context_builder import ContextBuilder, ContextConfig, body_of
from retrieval.fusion import Hit
from retrieval.prompt_layout import render_sources


def hit(i: str, score: float, text: str, idx: int, section: str, title: str = "Handbook") -> Hit:
    payload = {
        schema.TEXT: text,
        schema.DOC_ID: "hb",
        schema.CHUNK_INDEX: idx,
        schema.TITLE: title,
        schema.SECTION: section,
        schema.SOURCE: "hb.md",
        schema.DOC_TYPE: "doc",
    }
    return Hit(id=i, score=score, payload=payload)


def count_words(text: str) -> int:
    return len(text.split())


def test_leading_title_and_section_lines_are_dropped_from_the_text() -> None:
    h = hit(
        "a", 0.9, "Handbook\nLeave > Accrual\nStaff accrue 2 days a month.", 0, "Leave > Accrual"
    )
    assert body_of(h) == "Staff accrue 2 days a month."
    # Only leading lines, compared whitespace-insensitively; a body line is never dropped.
    h2 = hit("b", 0.9, "  Leave >  Accrual \nLeave > Accrual\nmore", 0, "Leave > Accrual", "")
    assert body_of(h2) == "more"
    only = hit("c", 0.9, "Leave > Accrual", 0, "Leave > Accrual")
    assert body_of(only) == "Leave > Accrual"  # the last line stays
    other = hit("d", 0.9, "Leave policy\nStaff accrue.", 0, "Leave > Accrual")
    assert body_of(other) == "Leave policy\nStaff accrue."


def test_merged_sources_carry_each_header_once_in_the_label() -> None:
    b = ContextBuilder(ContextConfig(floor_ratio=0.0), counter=count_words)
    sources = b.build(
        [
            hit("a0", 0.9, "Handbook\nLeave > Accrual\nStaff accrue 2 days.", 0, "Leave > Accrual"),
            hit(
                "a1",
                0.8,
                "Handbook\nLeave > Carryover\nUp to 5 days carry.",
                1,
                "Leave > Carryover",
            ),
        ]
    )
    assert len(sources) == 1
    assert sources[0].text == "Staff accrue 2 days.\nUp to 5 days carry."
    rendered = render_sources(sources)
    assert rendered.count("Accrual") == 1 and rendered.count("Handbook") == 1
    assert "Leave > Accrual; Carryover" in rendered


def test_budget_and_near_duplicates_see_the_body() -> None:
    body = " ".join(f"w{i}" for i in range(30))
    b = ContextBuilder(ContextConfig(floor_ratio=0.0, budget_tokens=35), counter=count_words)
    kept = b.select(
        [
            hit("a", 0.9, f"Handbook\nLeave > Accrual\n{body}", 0, "Leave > Accrual"),
            # the same body under another heading: a near-duplicate once headers are set aside
            hit("b", 0.8, f"Handbook\nPay > Overtime\n{body}", 5, "Pay > Overtime"),
        ]
    )
    assert [h.id for h in kept] == ["a"]
    assert kept[0].payload[schema.TEXT] == body  # 30 words fit the 35-word budget
