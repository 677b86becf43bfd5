"""The extractive answerer: it quotes what answers the question, cites it, says how sure it is,
and declines when nothing in the sources answers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from gateway.extraction.selection import NOT_FOUND, extract
from gateway.extraction.sources import NumberedSource, parse
from gateway.extraction.units import sentences, units_of
from gateway.providers.extractive import ExtractiveProvider
from gateway.stream_assembly import StreamAssembler
from gateway.types import ModelRequest

MSA = """4.3 Termination for Convenience. Customer may terminate this Agreement for convenience on
ninety (90) days' prior written notice to Northwind. Either party may terminate for material
breach not cured within thirty (30) days.

12.1 Limitation of Liability. Each party's total liability is capped at the fees paid in the
twelve (12) months before the claim."""
FEES = """Restocking fees apply to opened items.

| Product | Restocking fee | Window |
|---|---|---|
| Robot arm R-200 | 15% | 30 days |
| Gripper kit | 10% | 14 days |"""
HANDBOOK = """The office opens at 8:00 and closes at 18:00 on working days.
Visitors sign in at the front desk."""


def prompt(question: str, *sources: tuple[str, str]) -> str:
    body = "\n\n".join(f"[{n}] {head}\n{text}" for n, (head, text) in enumerate(sources, start=1))
    return f"Sources:\n\n{body}\n\nQuestion: {question}"


def ask(question: str, *sources: tuple[str, str], encoder: Any = None) -> Any:
    return extract(parse(prompt(question, *sources)), encoder)


def test_it_quotes_the_clause_that_answers_with_its_citation() -> None:
    found = ask(
        "How much notice does the customer need to terminate for convenience?",
        ("Handbook (Office hours)", HANDBOOK),
        ("Master Services Agreement (4. Term and Termination)", MSA),
    )
    assert found.text == (
        "Customer may terminate this Agreement for convenience on ninety (90) days' prior "
        "written notice to Northwind. [2]"
    )
    assert found.confidence > 0.3


def test_numbers_and_table_rows_are_quoted_exactly_with_their_header() -> None:
    found = ask("What is the restocking fee for the gripper kit?", ("Refund policy", FEES))
    assert found.text == (
        "| Product | Restocking fee | Window |\n| Gripper kit | 10% | 14 days |\n[1]"
    )
    liability = ask("What is the liability cap?", ("MSA", MSA))
    assert "twelve (12) months" in liability.text and liability.text.endswith("[1]")


def test_it_declines_when_no_sentence_supports_the_question() -> None:
    found = ask("What is the parental leave allowance?", ("MSA", MSA), ("Handbook", HANDBOOK))
    assert found.text == NOT_FOUND and found.confidence == 0.0 and not found.found


def test_confidence_is_lower_when_the_sources_do_not_answer() -> None:
    question = "How much notice does the customer need to terminate for convenience?"
    right = ask(question, ("MSA", MSA))
    wrong = ask(question, ("Handbook", HANDBOOK + " Termination of a visit is at the desk."))
    assert right.confidence > 2 * wrong.confidence


def test_the_answer_is_deterministic() -> None:
    q = "Within how many days must a material breach be cured?"
    assert ask(q, ("MSA", MSA)) == ask(q, ("MSA", MSA))
    assert "thirty (30) days" in ask(q, ("MSA", MSA)).text


class Encoder:
    """Unit vectors that put the question and 'desk' sentences together (a stand-in encoder)."""

    def __init__(self) -> None:
        self.calls: list[int] = []

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        self.calls.append(len(texts))
        near = ("desk", "where")
        return [[1.0, 0.0] if any(w in t.lower() for w in near) else [0.0, 1.0] for t in texts]


def test_the_encoder_is_asked_only_when_lexical_signals_leave_the_choice_open() -> None:
    clear = Encoder()
    ask("What is the liability cap?", ("MSA", MSA), ("Handbook", HANDBOOK), encoder=clear)
    assert clear.calls == []
    tied = Encoder()
    found = ask(
        "Where do visitors go?",
        ("A", "Visitors go to the desk first."),
        ("B", "Visitors go to the lobby first."),
        encoder=tied,
    )
    assert tied.calls and tied.calls[0] <= 5 and "desk" in found.text


def test_units_keep_abbreviations_and_headings_apart() -> None:
    assert sentences("Pay e.g. by card. Then sign. Fees are 12.5 EUR.") == [
        "Pay e.g. by card.",
        "Then sign.",
        "Fees are 12.5 EUR.",
    ]
    units = units_of(NumberedSource(1, "MSA", MSA))
    assert units[0].context == "4.3 Termination for Convenience."
    assert units[0].text.startswith("Customer may terminate")


async def test_the_provider_answers_at_no_cost_and_streams_its_confidence() -> None:
    provider = ExtractiveProvider()
    request = ModelRequest(
        model="extractive",
        messages=[{"role": "user", "content": prompt("What is the liability cap?", ("MSA", MSA))}],
    )
    response = await provider.complete(request)
    assert response.usage.total_input_tokens == 0 and response.usage.output_tokens == 0
    assert response.confidence is not None and response.confidence > 0
    assembler = StreamAssembler()
    async for event in provider.stream(request):
        assembler.feed(event)
    streamed = assembler.response(provider="extractive", model_alias="extractive", model_id="x")
    assert streamed.text == response.text and streamed.confidence == response.confidence
    assert await provider.count_tokens(request) == 0


@pytest.mark.parametrize("text", ["", "Question: what?", "no sources at all"])
def test_a_request_without_sources_is_declined(text: str) -> None:
    assert extract(parse(text)).text == NOT_FOUND
