"""Cutting a source into the units an answer may quote: sentences, list and clause items, and
table rows (each row with its header, so a quoted row still says what its numbers are).

A short heading-like unit (``4.3 Termination for Convenience.``, ``## Expenses``) is not quoted
on its own: it becomes the ``context`` of the units after it, which counts when matching the
question (a clause's title often names what its sentences are about).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from gateway.extraction.sources import NumberedSource

UnitKind = Literal["sentence", "item", "row"]

_TABLE_LINE = re.compile(r"^\s*\|.*\|\s*$")
_ITEM = re.compile(r"^\s*(?:[-*•·]|\(?(?:[a-z]|[ivx]{1,4}|\d{1,3})[.)])\s+\S", re.IGNORECASE)
_MD_HEADING = re.compile(r"^\s*#{1,6}\s+")
# A sentence ends at . ! ? (or CJK 。！？) followed by space and a capital, a digit, a quote or
# a bracket (so ``12.3`` never splits); an abbreviation does not end one.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"“‘(\[A-Z0-9])|(?<=[。！？])")
_ABBREVIATIONS = re.compile(
    r"(?:\b(?:e\.g|i\.e|etc|vs|inc|ltd|co|corp|no|nos|sec|art|cl|para|pp|approx|dr|mr|mrs|ms|st"
    r"|u\.s|u\.k|fig|ref)\.|\b[A-Z]\.)$",
    re.IGNORECASE,
)
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class Unit:
    source: int  # the source's number
    index: int  # position in the source
    kind: UnitKind
    text: str  # what is quoted
    context: str = ""  # the heading above it (matched, not quoted)
    header: str = ""  # a table row's header line (quoted with the row)

    @property
    def quoted(self) -> str:
        return f"{self.header}\n{self.text}" if self.header else self.text


def words(text: str) -> int:
    return len(_WORD.findall(text))


def sentences(paragraph: str) -> list[str]:
    pieces = [p.strip() for p in _SENTENCE_END.split(paragraph) if p and p.strip()]
    merged: list[str] = []
    for piece in pieces:
        if merged and _ABBREVIATIONS.search(merged[-1]):
            merged[-1] = f"{merged[-1]} {piece}"
        else:
            merged.append(piece)
    return merged


def _is_heading(text: str) -> bool:
    """A title rather than a statement: short, and numbered, marked up or without a verb-ish
    lowercase run."""
    stripped = text.strip().rstrip(".:")
    if _MD_HEADING.match(text):
        return True
    n = words(stripped)
    if n == 0 or n > 8:
        return False
    if re.match(r"^(?:\d+(?:\.\d+)*|[A-Z]|[IVX]+|Article|Section|Clause|Schedule)\b", stripped):
        return True
    lowers = sum(1 for w in stripped.split() if w[:1].islower())
    return lowers <= max(1, n // 3) and not stripped.endswith(("?", "!"))


def units_of(source: NumberedSource) -> list[Unit]:
    out: list[Unit] = []
    context = ""
    header = ""
    paragraph: list[str] = []

    def add(kind: UnitKind, text: str, head: str = "") -> None:
        text = text.strip()
        if text:
            out.append(Unit(source.n, len(out), kind, text, context, head))

    def flush() -> None:
        nonlocal context
        if not paragraph:
            return
        for sentence in sentences(" ".join(paragraph)):
            if _is_heading(sentence):
                context = _MD_HEADING.sub("", sentence).strip()
            else:
                add("sentence", sentence)
        paragraph.clear()

    for line in source.text.splitlines():
        if _TABLE_LINE.match(line):
            flush()
            if set(line.strip()) <= set("|-: \t"):  # the header's rule line
                continue
            if not header:
                header = line.strip()
            else:
                add("row", line, header)
            continue
        header = ""
        if not line.strip():
            flush()
            continue
        if _MD_HEADING.match(line):
            flush()
            context = _MD_HEADING.sub("", line).strip()
            continue
        if _ITEM.match(line):
            flush()
            add("item", line)
            continue
        if out and out[-1].kind == "item" and not paragraph and line.startswith((" ", "\t")):
            last = out[-1]
            out[-1] = Unit(
                last.source, last.index, "item", f"{last.text} {line.strip()}", last.context
            )
            continue
        paragraph.append(line.strip())
    flush()
    return out
