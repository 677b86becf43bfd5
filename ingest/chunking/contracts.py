"""Contracts: clause-aware chunks, each with its clause path and the agreement as context.

Clause headings are found at the start of a paragraph or line:

    Article 5 / ARTICLE V, Schedule A / Exhibit B / Annex 1 / Appendix C   (level 0)
    1.  12.3  12.3.1  Section 4.2  § 7                                     (level = depth)
    (a) (b) ... then (i) (ii) ... inside a lettered clause                 (one level deeper)
    第三章 (level 0), 第12条 (level 1, or 2 inside a 章)

A clause (with its sub-clauses) that fits the budget is one chunk; a bigger one is split into
its own text and its children, and small adjacent siblings are packed together. Each chunk's
``section`` is its clause label ("12.3 Limitation of Liability"; "12.3(b) Limitation of
Liability" for a sub-clause; "12. Liability › 12.1–12.3" for packed siblings) and its payload
carries the full ``clause_path``. Top-level clauses (articles) are never packed together. The
header names the agreement and its parties.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ingest.chunking.base import ChunkingConfig, EmbeddingTokenCounter, fit_header, split_to_fit
from ingest.documents import Chunk, Element, ParsedDocument

_ROMAN = {"i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x", "xi", "xii"}
_CN_NUM = "一二三四五六七八九十百千零〇两0123456789"

_TOP = re.compile(
    r"^(ARTICLE|Article|SCHEDULE|Schedule|EXHIBIT|Exhibit|ANNEX|Annex|APPENDIX|Appendix)"
    r"\s+([IVXLCDM]+|\d+|[A-Z])\b[.:]?\s*[-–—:]?\s*(.*)$",
    re.S,
)
_SECTION = re.compile(
    r"^(?:SECTION|Section|§)\s*(\d{1,3}(?:\.\d{1,3})*)\.?\s*[-–—:]?\s*(.*)$", re.S
)
_NUMBERED = re.compile(r"^(\d{1,3}(?:\.\d{1,3})+\.?|\d{1,3}\.)\s+(?=[\"“(A-Z])(.*)$", re.S)
_PAREN = re.compile(r"^\(([a-z]{1,2}|[ivx]{1,5})\)\s+(.*)$", re.S)
_CN_CHAPTER = re.compile(rf"^第([{_CN_NUM}]+)章\s*(.*)$", re.S)
_CN_ARTICLE = re.compile(rf"^第([{_CN_NUM}]+)条\s*(.*)$", re.S)
_TITLE_SPLIT = re.compile(r"^(.{2,90}?)(?:\.\s+|:\s+|\s+[-–—]\s+)(?=\S)(.*)$", re.S)
_BETWEEN = re.compile(r"\bbetween\s+(.{3,600}?)(?:\.\s+(?=[A-Z])|\.?$|;|\n\n)", re.I | re.S)
_PARENS = re.compile(r"\([^()]*\)")
_DESCRIPTOR = re.compile(r",\s+(?:a|an|the)\s+.*$|,\s*$", re.S)


@dataclass
class Clause:
    number: str  # "12.3", "(b)", "Article 5", "Schedule A", "第3条"; "" for the preamble
    title: str
    level: int
    kind: str  # top | num | letter | roman | cn | preamble
    lines: list[str] = field(default_factory=list)
    children: list[Clause] = field(default_factory=list)
    parent: Clause | None = None

    def label(self) -> str:
        if self.kind in ("letter", "roman") and self.parent is not None:
            base = self.parent
            while base.kind in ("letter", "roman") and base.parent is not None:
                base = base.parent
            chain = self.number
            node: Clause | None = self.parent
            while node is not None and node.kind in ("letter", "roman"):
                chain = node.number + chain
                node = node.parent
            return f"{base.number}{chain} {base.title}".strip()
        if self.kind == "preamble":
            return "Preamble"
        return f"{self.display_number()} {self.title}".strip()

    def display_number(self) -> str:
        """The number as contracts write it: "12." at the top level, "12.3" below."""
        return f"{self.number}." if self.kind == "num" and "." not in self.number else self.number

    def heading_only(self) -> bool:
        """The clause's own text is just its heading line ("12. Limitation of Liability")."""
        return (
            len(self.lines) == 1
            and bool(self.title)
            and len(self.lines[0]) <= len(self.number) + len(self.title) + 6
        )

    def path(self) -> list[str]:
        out: list[str] = []
        node: Clause | None = self
        while node is not None and node.kind != "root":
            out.append(node.label())
            node = node.parent
        return out[::-1]

    def short_path(self) -> str:
        """The path for a chunk header: sub-clauses by their number only."""
        out: list[str] = []
        node: Clause | None = self
        while node is not None and node.kind != "root":
            out.append(node.number if node.kind in ("letter", "roman") else node.label())
            node = node.parent
        return " › ".join(out[::-1])

    def own_text(self) -> str:
        return "\n".join(self.lines)

    def full_text(self) -> str:
        parts = [self.own_text()] if self.lines else []
        parts += [c.full_text() for c in self.children]
        return "\n".join(p for p in parts if p)


def _heading(text: str, innermost: Clause | None, cn_chapter_seen: bool) -> Clause | None:
    """The clause that ``text`` opens, if it starts with a clause marker."""
    if m := _TOP.match(text):
        return _with_title(f"{m.group(1).title()} {m.group(2)}", m.group(3), 0, "top", text)
    if m := _SECTION.match(text):
        number = m.group(1)
        return _with_title(number, m.group(2), number.count(".") + 1, "num", text)
    if m := _NUMBERED.match(text):
        number = m.group(1).rstrip(".")
        return _with_title(number, m.group(2), number.count(".") + 1, "num", text)
    if m := _CN_CHAPTER.match(text):
        return _with_title(f"第{m.group(1)}章", m.group(2), 0, "top", text)
    if m := _CN_ARTICLE.match(text):
        level = 2 if cn_chapter_seen else 1
        return _with_title(f"第{m.group(1)}条", m.group(2), level, "cn", text)
    if m := _PAREN.match(text):
        token = m.group(1)
        kind_in = innermost.kind if innermost is not None else ""
        roman = token in _ROMAN and (
            kind_in == "roman"
            or (
                kind_in == "letter"
                and token == "i"
                and innermost is not None
                and innermost.number != "(h)"
            )
        )
        kind = "roman" if roman else "letter"
        return Clause(number=f"({token})", title="", level=-1, kind=kind, lines=[text])
    return None


def _with_title(number: str, rest: str, level: int, kind: str, text: str) -> Clause:
    rest = rest.strip()
    title = ""
    words = rest.split()
    if (
        rest
        and len(words) <= 12
        and "\n" not in rest
        and ". " not in rest
        and not rest.endswith((".", ";", ",", ":"))
    ):
        title = rest  # a heading line: "12. Limitation of Liability"
    elif m := _TITLE_SPLIT.match(rest):
        head = m.group(1).strip()
        if 0 < len(head.split()) <= 8 and head[:1].isupper() and not head.endswith(")"):
            title = head
    if not title and 0 < len(words) <= 8 and "\n" not in rest:
        title = rest.rstrip(".;:,")  # a one-line clause: "1. Drive motor DM-40."
    return Clause(number=number, title=title.rstrip(".:"), level=level, kind=kind, lines=[text])


def _blocks(elements: Sequence[Element]) -> list[str]:
    """Paragraphs, further split at lines that start with a clause marker."""
    out: list[str] = []
    for el in elements:
        text = el.text.strip()
        if el.kind == "table" or "\n" not in text:
            out.append(text)
            continue
        current: list[str] = []
        for line in text.splitlines():
            if current and _heading(line.strip(), None, False) is not None:
                out.append("\n".join(current))
                current = []
            current.append(line.strip())
        out.append("\n".join(current))
    return [b for b in out if b]


def parse_clauses(elements: Sequence[Element]) -> Clause:
    root = Clause(number="", title="", level=-10, kind="root")
    preamble = Clause(number="", title="", level=-5, kind="preamble", parent=root)
    stack: list[Clause] = [root]
    cn_chapter = False
    for block in _blocks(elements):
        clause = _heading(block, stack[-1] if len(stack) > 1 else None, cn_chapter)
        if clause is None:
            target = stack[-1] if len(stack) > 1 else preamble
            target.lines.append(block)
            continue
        if clause.kind == "top" and clause.number.startswith("第"):
            cn_chapter = True
        if clause.kind in ("letter", "roman"):
            # a sub-clause sits below the innermost numbered clause (or lettered, for romans)
            while len(stack) > 1 and not _may_contain(stack[-1], clause):
                stack.pop()
            clause.level = stack[-1].level + 1
        else:
            while len(stack) > 1 and stack[-1].level >= clause.level:
                stack.pop()
        clause.parent = stack[-1]
        stack[-1].children.append(clause)
        stack.append(clause)
    if preamble.lines:
        root.children.insert(0, preamble)
    return root


def _may_contain(parent: Clause, child: Clause) -> bool:
    if child.kind == "letter":
        return parent.kind in ("num", "top", "cn")
    return parent.kind in ("letter", "num", "top", "cn")  # roman


def agreement_context(doc: ParsedDocument, root: Clause) -> tuple[str, str]:
    """(title, parties) of the agreement: the parties from the preamble's "between X and Y"."""
    title = doc.title
    preamble = next((c for c in root.children if c.kind == "preamble"), None)
    text = " ".join(preamble.lines) if preamble else ""
    parties = ""
    if m := _BETWEEN.search(text):
        flat = m.group(1)
        while _PARENS.search(flat):
            flat = _PARENS.sub("", flat)
        names = []
        for part in re.split(r"\s+and\s+", flat)[:2]:
            name = _DESCRIPTOR.sub("", " ".join(part.split())).strip(' ,"“”')
            name = name[:-1] if name.endswith(" .") or name.endswith(",.") else name
            if name:
                names.append(name)
        if len(names) == 2:
            parties = " and ".join(names)
    return title, parties


def chunk_contract(
    doc: ParsedDocument, counter: EmbeddingTokenCounter, config: ChunkingConfig
) -> list[Chunk]:
    from ingest.chunking.docs import text_elements

    elements = list(doc.elements) or text_elements(doc.text)
    root = parse_clauses(elements)
    title, parties = agreement_context(doc, root)
    agreement = f"{title} ({parties})" if parties else title
    chunks: list[Chunk] = []

    def emit(body: str, section: str, path: list[str], where: str) -> None:
        if where and body.startswith(where.rsplit(" › ", 1)[-1]):
            where = where.rsplit(" › ", 1)[0] if " › " in where else ""  # no repeated heading
        header, header_tokens = fit_header(
            f"{agreement}\n{where}" if where else agreement, counter, config.header_max_tokens
        )
        budget = config.budget - header_tokens - 1
        extra: dict[str, Any] = {"clause_path": path}
        if parties:
            extra["parties"] = parties
        for piece in split_to_fit(body, counter, budget):
            chunks.append(Chunk(len(chunks), f"{header}\n{piece}", section, extra))

    budget = config.budget - config.header_max_tokens - 1

    def fits(text: str) -> bool:
        return counter.count_tokens(text) <= budget

    def visit(node: Clause) -> None:
        if node.kind != "root" and fits(node.full_text()):
            emit(node.full_text(), node.label(), node.path(), node.short_path())
            return
        if node.kind != "root" and node.lines and not node.heading_only():
            emit(node.own_text(), node.label(), node.path(), node.short_path())
        group: list[Clause] = []

        def flush() -> None:
            if not group:
                return
            if len(group) == 1:
                only = group[0]
                emit(only.full_text(), only.label(), only.path(), only.short_path())
            else:
                first, last = group[0], group[-1]
                span = f"{first.display_number()}–{last.display_number()}"
                section = f"{node.label()} › {span}"
                where = f"{node.short_path()} › {span}"
                text = "\n".join(c.full_text() for c in group)
                emit(text, section, [*node.path(), section], where)
            group.clear()

        for child in node.children:
            text = child.full_text()
            if node.kind == "root":  # top-level clauses are never packed together
                if child.kind == "preamble" or fits(text):
                    emit(text, child.label(), child.path(), child.short_path())
                else:
                    visit(child)
                continue
            if not fits(text):
                flush()
                visit(child)
                continue
            if group and not fits("\n".join([*(c.full_text() for c in group), text])):
                flush()
            group.append(child)
        flush()

    visit(root)
    return chunks
