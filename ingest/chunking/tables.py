"""Tables: rendered as ``cell | cell`` rows for embedding, HTML kept in the payload.

A table that fits the budget stays whole. A larger one is split by rows, and every part
repeats the header row, so each chunk can be read (and cited) on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from ingest.chunking.base import EmbeddingTokenCounter, split_to_fit


@dataclass(frozen=True)
class TablePart:
    text: str  # rows as "a | b | c" lines, the header row first
    html: str
    rows: tuple[int, int]  # first and last body row in this part (1-based; 0, 0 for no body)


def parse_rows(html: str) -> list[list[str]]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    rows: list[list[str]] = []
    for tr in soup.find_all("tr"):
        cells = [" ".join(c.get_text(" ", strip=True).split()) for c in tr.find_all(["td", "th"])]
        if any(cells):
            rows.append(cells)
    return rows


def _row_text(cells: list[str]) -> str:
    return " | ".join(cells)


def _html(rows: list[list[str]], header: list[str] | None) -> str:
    parts = ["<table>"]
    if header is not None:
        parts.append(
            "<thead><tr>" + "".join(f"<th>{escape(c)}</th>" for c in header) + "</tr></thead>"
        )
    parts.append("<tbody>")
    for row in rows:
        parts.append("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>")
    parts.append("</tbody></table>")
    return "".join(parts)


def split_table(
    html: str | None, fallback_text: str, counter: EmbeddingTokenCounter, budget: int
) -> list[TablePart]:
    """The table as one part if it fits ``budget``, else parts by rows, each with the header."""
    rows = parse_rows(html) if html else []
    if not rows:
        return [TablePart(t, "", (0, 0)) for t in split_to_fit(fallback_text, counter, budget)]
    header, body = rows[0], rows[1:]
    header_text = _row_text(header)
    lines = [_row_text(r) for r in body]
    whole = "\n".join([header_text, *lines])
    if counter.count_tokens(whole) <= budget or not body:
        return [TablePart(whole, _html(body, header), (1 if body else 0, len(body)))]
    header_tokens = counter.count_tokens(header_text)
    room = max(budget - header_tokens - 1, budget // 2)
    counts = counter.count_tokens_batch(lines)
    parts: list[TablePart] = []
    start = 0
    while start < len(lines):
        used, end = 0, start
        while end < len(lines) and (end == start or used + counts[end] + 1 <= room):
            used += counts[end] + 1
            end += 1
        chunk_rows = body[start:end]
        text = "\n".join([header_text, *lines[start:end]])
        if end - start == 1 and counts[start] > room:  # one huge row: cut its text
            for piece in split_to_fit(lines[start], counter, room):
                parts.append(
                    TablePart(f"{header_text}\n{piece}", _html(chunk_rows, header), (end, end))
                )
        else:
            parts.append(TablePart(text, _html(chunk_rows, header), (start + 1, end)))
        start = end
    return parts
