"""Redactions remembered by text: a coding agent's turn re-sends its whole conversation, and
only what is new in it is analysed; the memory is bounded by the characters it holds."""

from __future__ import annotations

import pytest

import governance.redaction as redaction
from governance.pii_rules import possible_entities
from governance.redaction import PiiRedactor

EMAIL = "Write to li.wei@example.com.cn about the contract renewal."


@pytest.fixture
def analysed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The texts the redactor looked at (its first step on every text it analyses)."""
    seen: list[str] = []

    def counting(text: str) -> list[str]:
        seen.append(text)
        return possible_entities(text)

    monkeypatch.setattr(redaction, "possible_entities", counting)
    return seen


def test_a_text_seen_before_is_not_analysed_again_and_is_redacted_the_same(
    redactor: PiiRedactor, analysed: list[str]
) -> None:
    fresh = PiiRedactor()
    turn = {"system": "You are a careful assistant. " * 4, "messages": [{"content": EMAIL}]}
    first = fresh.redact_json(turn)
    assert first["messages"][0]["content"] == EMAIL.replace(
        "li.wei@example.com.cn", "<EMAIL_ADDRESS>"
    )
    looked = len(analysed)
    assert looked == 2
    next_turn = {**turn, "messages": [*turn["messages"], {"content": "And the annex, please."}]}
    second = fresh.redact_json(next_turn)
    assert second["messages"][0] == first["messages"][0]
    assert analysed[looked:] == ["And the annex, please."]  # only what is new


def test_the_memory_holds_at_most_its_characters_the_oldest_going_first(
    redactor: PiiRedactor, analysed: list[str]
) -> None:
    small = PiiRedactor(memo_chars=1000)
    texts = [f"text number {i:03d} " * 5 for i in range(20)]  # 90 characters each
    for text in texts:
        small.redact(text)
    assert small._memo.currsize <= 1000
    analysed.clear()
    small.redact(texts[-1])
    assert analysed == []  # the latest is remembered
    small.redact(texts[0])
    assert analysed == [texts[0]]  # the oldest was let go


def test_short_texts_and_texts_over_an_eighth_of_the_memory_are_not_remembered(
    redactor: PiiRedactor, analysed: list[str]
) -> None:
    small = PiiRedactor(memo_chars=1000)
    long_text = "a long tool result " * 10  # 190 characters: over 1000 // 8
    for text in ("short words", long_text):
        small.redact(text)
        small.redact(text)
    assert analysed == ["short words", "short words", long_text, long_text]
    assert small._memo.currsize == 0
