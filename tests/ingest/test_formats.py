"""Every supported format, on the public fixture files (by path, never copied)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ingest.loaders import ocr
from retrieval import schema
from tests.ingest.conftest import MakeIngestor
from tests.ingest.helpers import EVERYONE, write

UNS = "unstructured_example_docs"
HAY = "haystack_test_files"


def ingest_one(make_ingestor: MakeIngestor, tmp_path: Path, fixture: Path) -> tuple[object, list]:
    """Ingest a single fixture file; return the report and its chunks' payloads."""
    ing, store = make_ingestor()
    report = ing.ingest_path([fixture], scope="fx")
    doc_id = f"fx:{fixture.name}"
    chunks = [c.payload for c in store.chunks_of_doc(doc_id, EVERYONE)]
    return report, chunks


def text_of(chunks: list) -> str:
    return "\n".join(c[schema.TEXT] for c in chunks)


@pytest.mark.parametrize(
    ("rel", "title", "needles"),
    [
        (f"{UNS}/fake-html.html", "My First Heading", ["My first paragraph", "With sub-bullets"]),
        (f"{HAY}/html/what_is_haystack.html", None, ["Haystack"]),
        (f"{UNS}/umlauts-utf8.md", "können", ["äöüß"]),
        (f"{HAY}/markdown/sample.md", None, ["What to build with Haystack", "- Ask questions"]),
        (f"{UNS}/fake.docx", None, ["Lorem ipsum dolor sit amet."]),
        (f"{HAY}/docx/sample_docx_1.docx", "A sample PDF ﬁle", ["History and standardization"]),
        (f"{UNS}/pdf/fake-memo.pdf", None, ["20,000 bottles of water"]),
        (f"{HAY}/pdf/sample_pdf_1.pdf", None, ["sample"]),
        (f"{UNS}/fake-email.eml", "Test Email", ["Roses are red", "From: Matthew Robinson"]),
        (f"{UNS}/fake-email.msg", "Test Email", ["Violets are blue"]),
        (f"{HAY}/msg/sample.msg", None, []),
        (f"{UNS}/language-docs/eng_spa_mult.md", None, []),
    ],
)
def test_document_formats(
    make_ingestor: MakeIngestor,
    tmp_path: Path,
    shared_data: Path,
    rel: str,
    title: str | None,
    needles: list[str],
) -> None:
    report, chunks = ingest_one(make_ingestor, tmp_path, shared_data / rel)
    assert report.ok, report.failed  # type: ignore[attr-defined]
    assert chunks, "no chunks"
    assert [c[schema.CHUNK_INDEX] for c in chunks] == list(range(len(chunks)))
    if title is not None:
        # the extracted title first; what the file name and the text add follow it (identity)
        assert str(chunks[0][schema.TITLE]).split(" · ")[0] == title
    body = text_of(chunks)
    for needle in needles:
        assert needle in body


def test_txt_and_declared_encoding(
    make_ingestor: MakeIngestor, tmp_path: Path, shared_data: Path
) -> None:
    from ingest.manifest import parse_manifest

    src = tmp_path / "txt"
    write(src, "plain.txt", "First paragraph about parking.\n\nSecond paragraph about lunch.")
    shutil.copy(shared_data / UNS / "umlauts-non-utf8.md", src / "umlauts-latin1.md")
    ing, store = make_ingestor()
    manifest = parse_manifest({"rules": [{"match": "*latin1*", "encoding": "latin-1"}]})
    report = ing.ingest_path([src], manifest=manifest)
    assert report.ok, report.failed
    plain = text_of([c.payload for c in store.chunks_of_doc("txt:plain.txt", EVERYONE)])
    assert "parking" in plain and "lunch" in plain
    latin = text_of([c.payload for c in store.chunks_of_doc("txt:umlauts-latin1.md", EVERYONE)])
    assert "äöüß" in latin


def test_undeclared_cp1252_html_needs_its_encoding(
    make_ingestor: MakeIngestor, tmp_path: Path, shared_data: Path
) -> None:
    from ingest.manifest import parse_manifest

    fixture = shared_data / UNS / "fake-html-cp1252.html"
    ing, store = make_ingestor()
    report = ing.ingest_path([fixture], scope="fx")
    (failure,) = report.failed
    assert failure.code == "bad_encoding" and "byte 0xf6" in failure.message
    manifest = parse_manifest({"rules": [{"match": "*.html", "encoding": "cp1252"}]})
    fixed = ing.ingest_path([fixture], scope="fx", manifest=manifest)
    assert fixed.ok
    body = text_of([c.payload for c in store.chunks_of_doc("fx:fake-html-cp1252.html", EVERYONE)])
    assert "schöne Frau" in body and "€" in body


def test_html_meta_charset_is_honoured(make_ingestor: MakeIngestor, tmp_path: Path) -> None:
    page = (
        "<html><head><meta charset='iso-8859-1'></head><body><p>Caf\xe9 cr\xe8me</p></body></html>"
    )
    write(tmp_path / "h", "page.html", page.encode("latin-1"))
    report, chunks = ingest_one(make_ingestor, tmp_path, tmp_path / "h" / "page.html")
    assert report.ok and "Café crème" in text_of(chunks)  # type: ignore[attr-defined]


def test_docx_tables_keep_html(
    make_ingestor: MakeIngestor, tmp_path: Path, shared_data: Path
) -> None:
    _report, chunks = ingest_one(make_ingestor, tmp_path, shared_data / UNS / "docx-tables.docx")
    tables = [c for c in chunks if "html" in c]
    assert tables and tables[0]["html"].startswith("<table>")
    assert "Header Col 1 | Header Col 2" in tables[0][schema.TEXT]


def test_markdown_table(make_ingestor: MakeIngestor, tmp_path: Path, shared_data: Path) -> None:
    _, chunks = ingest_one(make_ingestor, tmp_path, shared_data / UNS / "simple-table.md")
    assert "Item | Price | # In stock" in chunks[0][schema.TEXT]
    assert "Juicy Apples | 1.99 | 739" in chunks[0][schema.TEXT]


def test_csv_without_ticket_fields_is_a_table(
    make_ingestor: MakeIngestor, tmp_path: Path, shared_data: Path
) -> None:
    report, chunks = ingest_one(make_ingestor, tmp_path, shared_data / HAY / "csv" / "sample_1.csv")
    assert report.ok and chunks[0][schema.DOC_TYPE] == "doc"  # type: ignore[attr-defined]
    assert "John Doe | 27" in chunks[0][schema.TEXT]


def test_ticket_csv_one_row_per_ticket(
    make_ingestor: MakeIngestor, tmp_path: Path, shared_data: Path
) -> None:
    ing, store = make_ingestor()
    report = ing.ingest_path([shared_data / "ragas_examples" / "support_triage.csv"], scope="t")
    assert report.ok and len(report.added) == 20
    (chunk,) = store.chunks_of_doc("t:ticket:2", EVERYONE)
    p = chunk.payload
    assert p[schema.DOC_TYPE] == "ticket" and p["priority"] == "P0"
    assert "SSO via Okta" in p[schema.TEXT] and p[schema.TAGS] == ["Account", "ProductIssue"]


def test_ticket_json_and_ndjson_threads(make_ingestor: MakeIngestor, tmp_path: Path) -> None:
    src = tmp_path / "exports"
    write(
        src,
        "a.json",
        '[{"id": 7, "subject": "Broken dock", "status": "open", '
        '"priority": "high", "product": "Dock", "customer": "Acme", "messages": ['
        '{"author": "ann", "time": "2024-05-01T10:00:00Z", "body": "The dock is dead."},'
        '{"author": "bob", "time": "2024-05-01T11:00:00Z", "body": "Sending a new one."}]}]',
    )
    write(
        src,
        "b.ndjson",
        '{"ticket_id": "T-9", "title": "Login fails", "description": '
        '"Cannot sign in."}\n\n{"ticket_id": "T-10", "title": "Slow", "text": "Very slow."}\n',
    )
    ing, store = make_ingestor()
    report = ing.ingest_path([src])
    assert report.ok and sorted(report.added) == [
        "exports:ticket:7",
        "exports:ticket:T-10",
        "exports:ticket:T-9",
    ]
    (chunk,) = store.chunks_of_doc("exports:ticket:7", EVERYONE)
    p = chunk.payload
    assert p[schema.TITLE] == "Ticket 7: Broken dock · Acme"  # the customer tells it apart
    assert (p["status"], p["priority"], p["product"], p["customer"]) == (
        "open",
        "high",
        "Dock",
        "Acme",
    )
    assert "[2024-05-01T10:00:00Z] ann: The dock is dead.\n---\n" in p[schema.TEXT]
    assert p[schema.SOURCE] == "a.json#7" and p["messages"] == [1, 2]


def test_scanned_pdf_without_tesseract_says_so(
    make_ingestor: MakeIngestor,
    tmp_path: Path,
    shared_data: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ocr, "available", lambda: False)
    report, _ = ingest_one(
        make_ingestor, tmp_path, shared_data / HAY / "pdf" / "non_text_searchable.pdf"
    )
    (failure,) = report.failed  # type: ignore[attr-defined]
    assert failure.code == "needs_ocr"
    assert "apt-get install tesseract-ocr poppler-utils" in failure.message


@pytest.mark.slow
@pytest.mark.skipif(not ocr.available(), reason="tesseract and poppler are not installed")
def test_scanned_pdf_with_tesseract(
    make_ingestor: MakeIngestor, tmp_path: Path, shared_data: Path
) -> None:
    report, chunks = ingest_one(
        make_ingestor, tmp_path, shared_data / HAY / "pdf" / "non_text_searchable.pdf"
    )
    assert report.ok and len(text_of(chunks)) > 50  # type: ignore[attr-defined]


def test_encrypted_pdf(make_ingestor: MakeIngestor, tmp_path: Path, shared_data: Path) -> None:
    report, _ = ingest_one(make_ingestor, tmp_path, shared_data / UNS / "pdf" / "password.pdf")
    assert [(f.code, f.message) for f in report.failed] == [  # type: ignore[attr-defined]
        ("encrypted_file", "encrypted PDF: it needs a password")
    ]
