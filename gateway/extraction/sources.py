"""The numbered sources and the question of a request, as loregate's answer prompt lays them
out (and as any caller may): the last user message holds ``[n] heading`` lines, each followed by
its text, then a ``Question:`` line.

    Sources:

    [1] Master Services Agreement (4. Term and Termination) [contract; legal/msa.md]
    4.3 Termination for Convenience. Customer may terminate ...

    Question: How much notice ...
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_SOURCE = re.compile(r"^[ \t]*\[(\d{1,3})\][ \t]*(.*)$", re.MULTILINE)
_QUESTION = re.compile(r"^[ \t]*question[ \t]*:[ \t]*", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class NumberedSource:
    n: int
    heading: str  # the label line after ``[n]``: title, section, type and origin
    text: str


@dataclass(frozen=True)
class SourcedQuestion:
    question: str
    sources: tuple[NumberedSource, ...]


def text_of(content: Any) -> str:
    """A message's text: a string, or its text blocks joined."""
    if isinstance(content, str):
        return content
    parts = [
        str(block.get("text", ""))
        for block in content or []
        if isinstance(block, dict) and block.get("type") == "text"
    ]
    return "\n\n".join(parts)


def last_user_text(messages: list[dict[str, Any]]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user":
            return text_of(message.get("content"))
    return ""


def parse(text: str) -> SourcedQuestion:
    """The question (the text after the last ``Question:``, else the whole text) and the
    sources before it, in order; a number given twice keeps its first text."""
    marks = list(_QUESTION.finditer(text))
    if not marks:
        return SourcedQuestion(text.strip(), ())
    body, question = text[: marks[-1].start()], text[marks[-1].end() :].strip()
    starts = list(_SOURCE.finditer(body))
    found: dict[int, NumberedSource] = {}
    for i, m in enumerate(starts):
        end = starts[i + 1].start() if i + 1 < len(starts) else len(body)
        n = int(m.group(1))
        if n not in found:
            found[n] = NumberedSource(n, m.group(2).strip(), body[m.end() : end].strip())
    return SourcedQuestion(question, tuple(found.values()))
