"""Docs (policies, handbooks, manuals, emails): heading-aware chunks with breadcrumbs.

Headings open sections; each chunk holds text of one section, and its header is the
breadcrumb of headings above it ("Employee Handbook > Time Off > Paid Time Off"), so a
chunk read alone still says where it comes from. Paragraphs and list items are packed up to
the budget and split at sentences when too long; tables go through ``chunking.tables``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ingest.chunking.base import (
    ChunkingConfig,
    EmbeddingTokenCounter,
    fit_header,
    pack,
    split_to_fit,
)
from ingest.chunking.tables import split_table
from ingest.documents import Chunk, Element, ParsedDocument

Section = tuple[tuple[str, ...], list[Element]]
LONG_HEADING_WORDS = 8


def text_elements(text: str) -> list[Element]:
    """Plain text as paragraphs (blank-line separated); Markdown-style '#' lines as titles."""
    out: list[Element] = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        block = block.strip()
        if not block:
            continue
        if block.startswith("#") and "\n" not in block:
            level = len(block) - len(block.lstrip("#"))
            out.append(Element(kind="title", text=block.lstrip("#").strip(), level=level))
        else:
            out.append(Element(kind="text", text=block))
    return out


def sections(elements: Sequence[Element]) -> list[Section]:
    """Elements grouped under their heading path. A long heading (over 8 words) with no text
    of its own is kept as text: PDF parsers often take a short paragraph for a title."""
    stack: list[tuple[int, str]] = []
    out: list[Section] = []
    current: list[Element] = []

    def close(next_level: int | None) -> None:
        crumbs = tuple(t for _, t in stack)
        if current:
            out.append((crumbs, list(current)))
        elif (
            stack
            and (next_level is None or next_level <= stack[-1][0])
            and len(stack[-1][1].split()) > LONG_HEADING_WORDS
        ):
            # a long "heading" with nothing under it is text a parser took for a title (PDF)
            out.append((crumbs, [Element(kind="text", text=stack[-1][1])]))

    for el in elements:
        if el.kind == "title":
            close(el.level)
            current = []
            while stack and stack[-1][0] >= el.level:
                stack.pop()
            stack.append((el.level, el.text))
        else:
            current.append(el)
    close(None)
    return out


def header_for(title: str, crumbs: Sequence[str]) -> str:
    path = " > ".join(crumbs)
    if not crumbs:
        return title
    if title and crumbs[0] != title:
        return f"{title}\n{path}"
    return path


def _unit(el: Element) -> str:
    return f"- {el.text}" if el.kind == "list_item" else el.text


def chunk_doc(
    doc: ParsedDocument, counter: EmbeddingTokenCounter, config: ChunkingConfig
) -> list[Chunk]:
    elements = list(doc.elements) or text_elements(doc.text)
    grouped = sections(elements)
    if not grouped and elements:  # only headings: a parser took every line for a title
        grouped = [((), [Element(kind="text", text=e.text) for e in elements])]
    chunks: list[Chunk] = []
    for crumbs, body in grouped:
        chunks.extend(_section_chunks(doc.title, crumbs, body, counter, config, len(chunks)))
    return chunks


def _section_chunks(
    title: str,
    crumbs: tuple[str, ...],
    body: list[Element],
    counter: EmbeddingTokenCounter,
    config: ChunkingConfig,
    first_index: int,
) -> list[Chunk]:
    header, header_tokens = fit_header(header_for(title, crumbs), counter, config.header_max_tokens)
    budget = config.budget - header_tokens - 1
    section = " > ".join(crumbs)
    extra: dict[str, Any] = {"breadcrumbs": list(crumbs)}
    out: list[Chunk] = []

    def emit(text: str, chunk_extra: dict[str, Any]) -> None:
        full = f"{header}\n{text}" if header else text
        out.append(Chunk(first_index + len(out), full, section, chunk_extra))

    pending: list[str] = []
    for el in [*body, None]:
        if el is not None and el.kind != "table":
            pending.append(_unit(el))
            continue
        if pending:  # text before a table (or at the end): packed up to the budget
            pieces = [p for unit in pending for p in split_to_fit(unit, counter, budget)]
            for text in pack(pieces, counter.count_tokens_batch(pieces), budget):
                emit(text, extra)
            pending = []
        if el is not None:
            for part in split_table(el.html, el.text, counter, budget):
                table_extra = {**extra, "table_rows": list(part.rows)}
                if part.html:
                    table_extra["html"] = part.html
                emit(part.text, table_extra)
    return out
