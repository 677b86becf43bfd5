"""Chunk boundaries: contracts by clause, docs by heading, tables by rows, tickets by message."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.chunking import ChunkingConfig, chunk_document
from ingest.chunking.contracts import parse_clauses
from ingest.chunking.docs import text_elements
from ingest.documents import Element, ParsedDocument
from testkit.embedders import FakeEmbedder

COUNTER = FakeEmbedder()
CONTRACT = """SUPPLY AGREEMENT

This Supply Agreement is made by and between Kestrel Components Ltd, a company registered
in England ("Supplier"), and Northwind Robotics, Inc., a Delaware corporation ("Buyer").

ARTICLE I - DEFINITIONS

1.1 "Components" means the parts listed in Schedule A.

1.2 "Order" means a purchase order.

ARTICLE II - WARRANTY

Section 2.1 Warranty Period. Components are free from defects for 24 months.

Section 2.2 Remedies. For a defective Component Supplier will:

(a) replace it within ten days; or

(b) refund its price, where:

(i) the defect was reported in time; and

(ii) the Component was used as specified.

(h) eighth item

(i) ninth item, a letter after (h)

12. Limitation of Liability

12.3 Cap. Liability is capped at the fees paid in the preceding twelve months.

Schedule A - Components

1. Drive motor DM-40.

第3条 保密

双方应当保密。
"""


def contract(text: str = CONTRACT) -> ParsedDocument:
    return ParsedDocument(doc_id="c", title="Supply Agreement", text=text, doc_type="contract")


def test_clause_tree_follows_the_numbering() -> None:
    root = parse_clauses(text_elements(CONTRACT))
    top = [c.label() for c in root.children]
    assert top == [
        "Preamble",
        "Article I DEFINITIONS",
        "Article II WARRANTY",
        "Schedule A Components",
    ]
    article2 = root.children[2]
    assert [c.label() for c in article2.children] == [
        "2.1 Warranty Period",
        "2.2 Remedies",
        "12. Limitation of Liability",
    ]
    assert [c.label() for c in article2.children[2].children] == ["12.3 Cap"]
    remedies = article2.children[1]
    assert [c.number for c in remedies.children] == ["(a)", "(b)", "(h)", "(i)"]
    b = remedies.children[1]
    assert [c.number for c in b.children] == ["(i)", "(ii)"]  # romans inside (b)
    assert b.children[1].label() == "2.2(b)(ii) Remedies"
    assert remedies.children[3].kind == "letter"  # (i) right after (h) is a letter
    schedule = root.children[3]
    assert [c.label() for c in schedule.children] == ["1. Drive motor DM-40", "第3条 保密"]


def test_each_chunk_carries_clause_path_title_and_parties() -> None:
    chunks = chunk_document(
        contract(), COUNTER, ChunkingConfig(max_tokens=60, header_max_tokens=28)
    )
    by_section = {c.section: c for c in chunks}
    cap = by_section["12. Limitation of Liability"]  # 12. and 12.3 fit in one chunk
    assert cap.extra["clause_path"] == ["Article II WARRANTY", "12. Limitation of Liability"]
    assert cap.extra["parties"] == "Kestrel Components Ltd and Northwind Robotics, Inc."
    assert cap.text.startswith("Supply Agreement (Kestrel Components Ltd and Northwind Robotics")
    assert "12.3 Cap. Liability is capped" in cap.text
    assert by_section["2.2 Remedies › (h)–(i)"].extra["clause_path"][-2] == "2.2 Remedies"
    assert "(ii) the Component was used as specified." in by_section["2.2(b) Remedies"].text
    # no clause text is lost or duplicated across chunks
    bodies = "\n".join(c.text for c in chunks)
    for line in ('1.2 "Order" means a purchase order.', "双方应当保密。", "(h) eighth item"):
        assert bodies.count(line) == 1, line


def test_small_clause_stays_whole_and_top_level_clauses_are_separate() -> None:
    chunks = chunk_document(contract(), COUNTER, ChunkingConfig(max_tokens=200))
    sections = [c.section for c in chunks]
    assert sections == [
        "Preamble",
        "Article I DEFINITIONS",
        "Article II WARRANTY",
        "Schedule A Components",
    ]


def test_demo_msa_liability_clause(tmp_path: Path) -> None:
    from ingest.loaders.files import keep_list_numbers

    root = Path(__file__).resolve().parents[2] / "demo/corpus/contracts/acme-msa.md"
    text = keep_list_numbers(root.read_text()).replace("\\.", ".").replace("#", "")
    doc = contract(text)
    chunks = chunk_document(doc, COUNTER, ChunkingConfig(max_tokens=80, header_max_tokens=30))
    cap = next(c for c in chunks if c.section == "12.2 Liability Cap")
    assert "twelve (12) months" in cap.text
    assert cap.extra["parties"] == "Northwind Robotics, Inc. and Acme Logistics LLC"


def test_chunks_fit_the_budget() -> None:
    long_clause = "1. Scope\n\n1.1 " + " ".join(f"word{i}" for i in range(500)) + "."
    cfg = ChunkingConfig(max_tokens=64, header_max_tokens=20)
    chunks = chunk_document(contract(long_clause), COUNTER, cfg)
    assert len(chunks) > 5
    assert all(COUNTER.count_tokens(c.text) <= cfg.budget + 2 for c in chunks)


def test_docs_breadcrumbs_and_sentence_splits() -> None:
    text = (
        "# Handbook\n\n## Time Off\n\n### Sick Leave\n\n"
        + " ".join(f"Sentence {i} is here." for i in range(60))
        + "\n\n## Expenses\n\nMeals are paid."
    )
    doc = ParsedDocument(doc_id="h", title="Handbook", text=text)
    chunks = chunk_document(doc, COUNTER, ChunkingConfig(max_tokens=64, header_max_tokens=20))
    sick = [c for c in chunks if c.section == "Handbook > Time Off > Sick Leave"]
    assert len(sick) > 2 and all(
        c.text.startswith("Handbook > Time Off > Sick Leave\n") for c in sick
    )
    assert all(c.text.rstrip().endswith(".") for c in sick)  # cut at sentence ends
    assert chunks[-1].section == "Handbook > Expenses" and chunks[-1].extra["breadcrumbs"] == [
        "Handbook",
        "Expenses",
    ]


def test_table_whole_when_it_fits_split_with_header_when_not() -> None:
    rows = "".join(f"<tr><td>Item {i}</td><td>{i}.00</td></tr>" for i in range(40))
    html = f"<table><tr><th>Item</th><th>Price</th></tr>{rows}</table>"
    table = Element(kind="table", text="...", html=html)
    small = Element(
        kind="table", text="...", html="<table><tr><th>A</th></tr><tr><td>1</td></tr></table>"
    )
    doc = ParsedDocument(
        doc_id="t",
        title="Prices",
        elements=(Element(kind="title", text="Prices", level=0), small, table),
    )
    chunks = chunk_document(doc, COUNTER, ChunkingConfig(max_tokens=64, header_max_tokens=16))
    assert chunks[0].text == "Prices\nA\n1" and chunks[0].extra["table_rows"] == [1, 1]
    parts = chunks[1:]
    assert len(parts) > 2
    assert all(p.text.split("\n")[1] == "Item | Price" for p in parts)  # header repeated
    body_rows = [line for p in parts for line in p.text.split("\n")[2:]]
    assert body_rows == [f"Item {i} | {i}.00" for i in range(40)]  # every row exactly once
    assert parts[0].extra["html"].startswith("<table><thead><tr><th>Item</th>")


def test_ticket_thread_splits_at_message_boundaries() -> None:
    msgs = tuple(
        Element(
            kind="message",
            text=f"Message {i}: " + "details " * 15,
            author=f"user{i}",
            time=f"2024-05-0{i}",
        )
        for i in range(1, 6)
    )
    doc = ParsedDocument(
        doc_id="t",
        title="Ticket 9: Dock broken",
        elements=msgs,
        doc_type="ticket",
        metadata={"status": "open", "priority": "high"},
    )
    chunks = chunk_document(doc, COUNTER, ChunkingConfig(max_tokens=64, header_max_tokens=20))
    assert len(chunks) > 1
    for c in chunks:
        assert c.text.startswith("Ticket 9: Dock broken\nstatus: open · priority: high\n")
        first, last = c.extra["messages"]
        assert all(
            f"[2024-05-0{i}] user{i}: Message {i}:" in c.text for i in range(first, last + 1)
        )
    covered = [i for c in chunks for i in range(c.extra["messages"][0], c.extra["messages"][1] + 1)]
    assert covered == [1, 2, 3, 4, 5]


def test_config_validation() -> None:
    with pytest.raises(ValueError, match="max_tokens"):
        ChunkingConfig(max_tokens=10)
    assert ChunkingConfig(max_tokens=400).budget == 254  # never past the model's window
