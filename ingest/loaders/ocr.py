"""OCR for scanned PDFs (no text layer): unstructured's ``ocr_only`` strategy, which needs
the tesseract and poppler programs (Debian: ``apt-get install tesseract-ocr poppler-utils``).
Without them, a scanned PDF is rejected with a message that says exactly that. About 10 s a
page on two cores.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from ingest.errors import FileRejected

MIN_TEXT_CHARS = 20  # less extracted text than this: the PDF is a scan


def available() -> bool:
    return shutil.which("tesseract") is not None and shutil.which("pdftoppm") is not None


def partition_scanned_pdf(path: Path, languages: list[str]) -> list[Any]:
    if not available():
        raise FileRejected(
            "needs_ocr",
            "scanned PDF (no text layer): OCR needs tesseract and poppler, which are not "
            "installed (apt-get install tesseract-ocr poppler-utils), then ingest again",
        )
    from unstructured.partition.pdf import partition_pdf

    elements = list(partition_pdf(filename=str(path), strategy="ocr_only", languages=languages))
    if sum(len(str(e.text).strip()) for e in elements) < MIN_TEXT_CHARS:
        raise FileRejected("no_text", "no text found in the PDF, even with OCR")
    return elements
