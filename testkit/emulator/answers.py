"""The emulator's deterministic answers.

Default answer (RAG-aware). In the last user message (or, failing that, the system prompt),
numbered sources are lines that start with ``[n]`` (the source runs until the next ``[m]`` line
or a ``Question:`` line; when it spans several lines, its first line is a heading, not a
candidate answer) or ``<source id="n">...</source>`` elements. The question is the text
after ``Question:``, else the text after the last source, else the whole message.

- With sources, the answer is the source sentence sharing the most (IDF-weighted) words with the
  question, followed by its citation: ``"The notice period is 30 days. [2]"``. When no sentence
  shares a word, the answer is ``NOT_FOUND_ANSWER`` (a weak answer: it makes the gateway escalate).
- Without sources, the answer echoes the question: ``"Emulated answer from <model>: <question>"``.

Both request shapes (Anthropic Messages and OpenAI chat) are understood.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

NOT_FOUND_ANSWER = "The sources do not contain this."

Reply = str | list[dict[str, Any]]
"""A responder's answer: text, or Anthropic content blocks (``text`` / ``tool_use``)."""
Responder = Callable[[dict[str, Any]], Reply]

_SOURCE_LINE = re.compile(r"^[ \t]*\[(\d+)\][ \t:.-]*", re.MULTILINE)
_SOURCE_XML = re.compile(r'<source\b[^>]*\bid="?(\d+)"?[^>]*>(.*?)</source>', re.DOTALL)
_QUESTION = re.compile(r"^[ \t]*(?:question|q)\s*:\s*", re.IGNORECASE | re.MULTILINE)
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+|\n+")
_WORD = re.compile(r"[a-z0-9]+")
_STOPWORDS = frozenset(
    {
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "can",
        "do",
        "does",
        "for",
        "from",
        "has",
        "have",
        "how",
        "i",
        "if",
        "in",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "our",
        "should",
        "than",
        "that",
        "the",
        "their",
        "them",
        "there",
        "these",
        "this",
        "to",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "you",
        "your",
        "about",
        "into",
        "per",
        "may",
        "must",
        "not",
        "any",
        "all",
        "also",
        "been",
        "being",
    }
)


@dataclass(frozen=True)
class Source:
    number: int
    text: str


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for block in content:
            if isinstance(block, dict) and block.get("type") == "text":
                parts.append(str(block.get("text", "")))
            elif isinstance(block, dict) and block.get("type") == "tool_result":
                parts.append(_text_of(block.get("content", "")))
        return "\n".join(parts)
    return ""


def last_user_text(body: dict[str, Any]) -> str:
    """The text of the last user message of an Anthropic or OpenAI request."""
    for message in reversed(body.get("messages") or []):
        if isinstance(message, dict) and message.get("role") == "user":
            return _text_of(message.get("content", ""))
    return ""


def system_text(body: dict[str, Any]) -> str:
    """The system prompt of an Anthropic request, or the system/developer messages of OpenAI's."""
    system = body.get("system")
    if system is not None:
        return _text_of(system)
    return "\n".join(
        _text_of(m.get("content", ""))
        for m in body.get("messages") or []
        if isinstance(m, dict) and m.get("role") in ("system", "developer")
    )


def parse_sources(text: str) -> tuple[list[Source], str]:
    """The numbered sources in ``text`` and the question (see the module docstring)."""
    sources = [Source(int(m.group(1)), m.group(2).strip()) for m in _SOURCE_XML.finditer(text)]
    q_match = _QUESTION.search(text)
    body_end = q_match.start() if q_match else len(text)
    question = text[q_match.end() :].strip() if q_match else ""
    if not sources:
        markers = list(_SOURCE_LINE.finditer(text, 0, body_end))
        for i, marker in enumerate(markers):
            end = markers[i + 1].start() if i + 1 < len(markers) else body_end
            chunk = text[marker.end() : end]
            if i + 1 == len(markers) and not q_match:
                # The question follows the last source after a blank line.
                head, sep, tail = chunk.rpartition("\n\n")
                if sep and tail.strip() and head.strip():
                    chunk, question = head, tail.strip()
            sources.append(Source(int(marker.group(1)), chunk.strip()))
    elif not q_match:
        question = _SOURCE_XML.sub("", text).strip()
    if not question:
        question = text.strip() if not sources else ""
    return sources, question


def _body(text: str) -> str:
    """A source's text without its heading line (``[n] Title (Section)``) when it has a body."""
    head, sep, rest = text.partition("\n")
    return rest if sep and rest.strip() else head


def _words(text: str) -> list[str]:
    out = []
    for w in _WORD.findall(text.lower()):
        if w in _STOPWORDS or len(w) < 2:
            continue
        out.append(w[:-1] if len(w) > 3 and w.endswith("s") else w)
    return out


def best_sentence(sources: list[Source], question: str) -> tuple[str, int] | None:
    """The source sentence that overlaps most with the question, with its source number."""
    sentences = [
        (s.strip(), src.number)
        for src in sources
        for s in _SENTENCE_SPLIT.split(_body(src.text))
        if s.strip()
    ]
    if not sentences:
        return None
    bags = [set(_words(s)) for s, _ in sentences]
    df: dict[str, int] = {}
    for bag in bags:
        for w in bag:
            df[w] = df.get(w, 0) + 1
    wanted = set(_words(question))
    n = len(sentences)
    best: tuple[float, int] = (0.0, -1)
    for i, bag in enumerate(bags):
        score = sum(math.log(1 + n / df[w]) for w in bag & wanted)
        if score > best[0]:
            best = (score, i)
    return sentences[best[1]] if best[1] >= 0 else None


def default_answer(body: dict[str, Any]) -> str:
    """The deterministic answer to an Anthropic or OpenAI request (see the module docstring)."""
    user = last_user_text(body)
    sources, question = parse_sources(user)
    if not sources:
        system_sources, _ = parse_sources(system_text(body))
        if system_sources:
            sources, question = system_sources, user.strip()
    if sources:
        found = best_sentence(sources, question)
        if found is None:
            return NOT_FOUND_ANSWER
        sentence, number = found
        return f"{sentence} [{number}]"
    asked = " ".join(question.split())
    if len(asked) > 200:
        asked = asked[:200].rstrip() + "..."
    return f"Emulated answer from {body.get('model', 'unknown')}: {asked or '(empty prompt)'}"
