"""Tickets: one thread per document, cut only at message boundaries when it is too long.

Each chunk's header names the ticket and its state ("Ticket 4711: Refund not received /
status: open · priority: high · product: Pallet Bot"), and each message keeps its author and
time, so a chunk read alone says who said what. Status, priority, product and customer are
payload keys too (filterable).
"""

from __future__ import annotations

from typing import Any

from ingest.chunking.base import ChunkingConfig, EmbeddingTokenCounter, fit_header, split_to_fit
from ingest.documents import Chunk, Element, ParsedDocument

TICKET_FIELDS = ("status", "priority", "product", "customer")


def ticket_header(doc: ParsedDocument) -> str:
    state = " · ".join(f"{k}: {doc.metadata[k]}" for k in TICKET_FIELDS[:3] if doc.metadata.get(k))
    return f"{doc.title}\n{state}" if state else doc.title


def render_message(el: Element) -> str:
    who = el.author or "unknown"
    when = f"[{el.time}] " if el.time else ""
    return f"{when}{who}: {el.text}"


def chunk_ticket(
    doc: ParsedDocument, counter: EmbeddingTokenCounter, config: ChunkingConfig
) -> list[Chunk]:
    messages = [e for e in doc.elements if e.kind == "message"] or [
        Element(kind="message", text=e.text) for e in doc.elements
    ]
    if not messages and doc.text:
        messages = [Element(kind="message", text=doc.text)]
    header, header_tokens = fit_header(ticket_header(doc), counter, config.header_max_tokens)
    budget = config.budget - header_tokens - 1
    # each message, split if it alone is too long (the parts keep author and time)
    units: list[tuple[int, str]] = []
    for n, el in enumerate(messages, start=1):
        rendered = render_message(el)
        if counter.count_tokens(rendered) <= budget:
            units.append((n, rendered))
            continue
        prefix = render_message(Element(kind="message", text="", author=el.author, time=el.time))
        room = budget - counter.count_tokens(prefix) - 2
        for piece in split_to_fit(el.text, counter, max(room, budget // 2)):
            units.append((n, f"{prefix}{piece}"))
    counts = counter.count_tokens_batch([u for _, u in units])
    chunks: list[Chunk] = []
    group: list[tuple[int, str]] = []
    used = 0

    def flush() -> None:
        if not group:
            return
        first, last = group[0][0], group[-1][0]
        span = f"message {first}" if first == last else f"messages {first}–{last}"
        section = doc.title if len(units) == len(group) else f"{doc.title} ({span})"
        extra: dict[str, Any] = {"messages": [first, last]}
        body = "\n---\n".join(text for _, text in group)
        chunks.append(Chunk(len(chunks), f"{header}\n{body}", section, extra))
        group.clear()

    for unit, n in zip(units, counts, strict=True):
        if group and used + n + 2 > budget:
            flush()
            used = 0
        group.append(unit)
        used += n + 2
    flush()
    return chunks
