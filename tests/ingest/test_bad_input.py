"""Bad input: each file gets a clear error of its own, the job goes on, the index stays
consistent (good files in, bad files out, nothing half-written)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.ingest.conftest import MakeIngestor
from tests.ingest.helpers import EVERYONE, write

CASES = {
    "corrupt.pdf": ("corrupt_file", "could not parse PDF"),
    "not-a-pdf.pdf": ("corrupt_file", "no %PDF- header"),
    "zero.md": ("empty_file", "empty file (0 bytes)"),
    "binary.txt": ("binary_content", "binary data in a file named as text"),
    "latin1.txt": ("bad_encoding", "not valid utf-8 (byte 0xe9 at offset 3)"),
    "huge.md": ("file_too_large", "over the limit of 8.0 KB (LOREGATE_MAX_FILE_BYTES)"),
    "slides.pptx": ("unsupported_type", "unsupported file type .pptx"),
    "fake.docx": ("corrupt_file", "not a Word .docx file"),
    "data.json": ("bad_ticket_export", "no ticket fields"),
    "broken.ndjson": ("bad_ticket_export", "line 2 is not valid JSON"),
}


@pytest.fixture
def messy(tmp_path: Path, shared_data: Path) -> Path:
    root = tmp_path / "messy"
    write(root, "good.md", "# Good\n\nThis file is fine.")
    write(root, "also-good.txt", "Plain text works too.")
    pdf = (shared_data / "unstructured_example_docs/pdf/fake-memo.pdf").read_bytes()
    write(root, "corrupt.pdf", pdf[: len(pdf) // 3])  # truncated: header fine, body broken
    write(root, "not-a-pdf.pdf", b"hello, I am text")
    write(root, "zero.md", b"")
    write(root, "binary.txt", bytes(range(256)) * 4)
    write(root, "latin1.txt", "café".encode("latin-1"))
    write(root, "huge.md", "x" * 9000)
    write(root, "slides.pptx", b"PK\x03\x04...")
    write(root, "fake.docx", b"this is not a zip")
    write(root, "data.json", '{"rows": [1, 2, 3]}')
    write(root, "broken.ndjson", '{"id": 1, "subject": "a", "text": "b"}\n{oops\n')
    shutil.copy(shared_data / "unstructured_example_docs/fake-email.eml", root / "mail.eml")
    return root


def test_each_bad_file_gets_its_own_error_and_the_job_goes_on(
    make_ingestor: MakeIngestor, messy: Path
) -> None:
    ing, store = make_ingestor(max_file_bytes=8192)
    report = ing.ingest_path([messy])
    got = {f.path: (f.code, f.message) for f in report.failed}
    assert set(got) == set(CASES)
    for name, (code, fragment) in CASES.items():
        assert got[name][0] == code, (name, got[name])
        assert fragment in got[name][1], (name, got[name])
    assert sorted(report.added) == ["messy:also-good.txt", "messy:good.md", "messy:mail.eml"]
    # consistent: exactly the good documents' chunks are in the store
    assert store.count() == sum(d.chunk_count for d in ing.documents() if d.status == "ok")
    assert store.chunks_of_doc("messy:corrupt.pdf", EVERYONE) == []
    # failures are visible in the registry (except unsupported types, which are not documents)
    failed = {d.doc_id for d in ing.documents() if d.status == "failed"}
    assert "messy:zero.md" in failed and "messy:slides.pptx" not in failed


def test_bad_files_fail_again_but_good_ones_stay_unchanged(
    make_ingestor: MakeIngestor, messy: Path
) -> None:
    ing, store = make_ingestor(max_file_bytes=8192)
    ing.ingest_path([messy])
    writes = store.writes()
    again = ing.ingest_path([messy], prune=True)
    assert len(again.unchanged) == 3 and len(again.failed) == len(CASES)
    assert again.deleted == [] and store.writes() == writes
