"""The emulator's deterministic answers, token counting and reply rendering (no server)."""

from __future__ import annotations

from testkit.emulator import NOT_FOUND_ANSWER, count_text, default_answer, last_user_text
from testkit.emulator.answers import parse_sources
from testkit.emulator.replies import forced_tool, render, text_pieces
from testkit.emulator.tokens import count_block, count_tool, truncate_text

RAG_PROMPT = (
    "Answer from the sources and cite them.\n\n"
    "[1] Employees accrue 25 days of paid leave per year. Leave requests go to the manager.\n"
    "[2] The notice period for termination is 30 days. Notice must be given in writing.\n"
    "[3] Expenses are reimbursed within 14 days of approval.\n\n"
    "Question: What is the notice period for termination?"
)


def ask(text: str, model: str = "claude-haiku-4-5", system: str | None = None) -> str:
    body: dict[str, object] = {"model": model, "messages": [{"role": "user", "content": text}]}
    if system is not None:
        body["system"] = system
    return default_answer(body)


def test_token_counting_is_words_and_punctuation() -> None:
    assert count_text("Hello, world!") == 4
    assert count_text("") == 0
    assert count_text("a  b\n\nc") == 3
    assert truncate_text("one two three four", 2) == "one two"
    assert truncate_text("one two", 5) == "one two"
    assert count_block({"type": "text", "text": "a b", "cache_control": {"type": "ephemeral"}}) == 2
    assert count_block({"type": "tool_use", "name": "f", "input": {"x": 1}}) == 1 + 7
    assert count_block({"type": "image", "source": {"type": "base64", "data": "..."}}) == 1600
    tool = {"name": "get", "description": "Get it.", "input_schema": {"type": "object"}}
    assert count_tool(tool) == 1 + 3 + count_text('{"type":"object"}')


def test_rag_answer_picks_the_overlapping_sentence_and_cites_it() -> None:
    assert ask(RAG_PROMPT) == "The notice period for termination is 30 days. [2]"
    other = RAG_PROMPT.replace(
        "What is the notice period for termination?", "How many days of paid leave?"
    )
    assert ask(other) == "Employees accrue 25 days of paid leave per year. [1]"


def test_rag_answer_without_overlap_says_not_found() -> None:
    text = RAG_PROMPT.replace("What is the notice period for termination?", "Who won in 1998?")
    assert ask(text) == NOT_FOUND_ANSWER


def test_sources_without_question_line_use_the_last_paragraph() -> None:
    text = (
        "[1] Refunds take 14 days.\n[2] Support answers within a day.\n\nHow long do refunds take?"
    )
    sources, question = parse_sources(text)
    assert [s.number for s in sources] == [1, 2]
    assert sources[1].text == "Support answers within a day."
    assert question == "How long do refunds take?"
    assert ask(text) == "Refunds take 14 days. [1]"


def test_xml_sources_and_sources_in_the_system_prompt() -> None:
    xml = '<source id="7">The VPN is mandatory off site.</source>\nQuestion: Is the VPN mandatory?'
    assert ask(xml) == "The VPN is mandatory off site. [7]"
    system = "[4] Badges are collected at reception."
    assert ask("Where are badges collected?", system=system) == (
        "Badges are collected at reception. [4]"
    )


def test_without_sources_the_answer_echoes_the_question_deterministically() -> None:
    assert ask("Hello there") == "Emulated answer from claude-haiku-4-5: Hello there"
    assert ask("Hello there") == ask("Hello there")
    long = "word " * 100
    assert ask(long).endswith("...")


def test_last_user_text_reads_both_request_shapes() -> None:
    anthropic_body = {
        "messages": [
            {
                "role": "user",
                "content": [{"type": "text", "text": "first"}, {"type": "text", "text": "second"}],
            }
        ]
    }
    openai_body = {
        "messages": [
            {"role": "system", "content": "s"},
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": "yo"},
        ]
    }
    assert last_user_text(anthropic_body) == "first\nsecond"
    assert last_user_text(openai_body) == "hi"


def test_render_applies_stop_sequences_then_max_tokens() -> None:
    ids = iter(["toolu_1"])
    out = render("alpha beta STOP gamma", max_tokens=10, stops=["STOP"], new_tool_id=lambda: "x")
    assert (out.text, out.stop_reason, out.stop_sequence) == (
        "alpha beta ",
        "stop_sequence",
        "STOP",
    )
    out = render("one two three four", max_tokens=2, stops=[], new_tool_id=lambda: "x")
    assert (out.text, out.stop_reason, out.output_tokens) == ("one two", "max_tokens", 2)
    out = render(
        [{"type": "tool_use", "name": "f", "input": {"a": 1}}],
        max_tokens=50,
        stops=[],
        new_tool_id=lambda: next(ids),
    )
    assert out.blocks == [{"type": "tool_use", "id": "toolu_1", "name": "f", "input": {"a": 1}}]
    assert out.stop_reason == "tool_use"


def test_forced_tool_choice_makes_a_tool_call_from_the_schema() -> None:
    schema = {
        "type": "object",
        "required": ["city", "days", "unit"],
        "properties": {
            "city": {"type": "string"},
            "days": {"type": "integer"},
            "unit": {"type": "string", "enum": ["c", "f"]},
        },
    }
    anthropic_body = {
        "tools": [{"name": "weather", "input_schema": schema}],
        "tool_choice": {"type": "tool", "name": "weather"},
    }
    assert forced_tool(anthropic_body) == {
        "name": "weather",
        "input": {"city": "emulated", "days": 1, "unit": "c"},
    }
    openai_body = {
        "tools": [{"type": "function", "function": {"name": "w", "parameters": {}}}],
        "tool_choice": "required",
    }
    assert forced_tool(openai_body) == {"name": "w", "input": {}}
    assert forced_tool({"tools": anthropic_body["tools"], "tool_choice": {"type": "auto"}}) is None


def test_text_pieces_concatenate_back() -> None:
    text = "The notice period is 30 days. [2]"
    pieces = text_pieces(text)
    assert len(pieces) > 1
    assert "".join(pieces) == text
