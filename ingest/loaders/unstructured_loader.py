"""Files to elements with ``unstructured`` (strategy "fast": no layout model, no network).

Text formats arrive already decoded (``ingest.validation.decode_text``); binary formats are
read from the path. unstructured's elements map onto ``ingest.documents.Element``: titles
keep their depth, tables keep their HTML, page headers, footers, page numbers and images are
dropped.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from ingest.documents import Element
from ingest.errors import FileRejected
from ingest.loaders import ocr, spacy_offline

_SKIP = frozenset({"Header", "Footer", "PageBreak", "Image", "PageNumber", "FigureCaption"})
_KIND = {
    "Title": "title",
    "ListItem": "list_item",
    "Table": "table",
    "CodeSnippet": "code",
    "Formula": "code",
}


def _prepare() -> None:
    os.environ.setdefault("UNSTRUCTURED_DISABLE_NOTICE", "1")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("SCARF_NO_ANALYTICS", "true")
    logging.getLogger("unstructured").setLevel(logging.ERROR)
    _import_spacy()
    spacy_offline.apply()


def _import_spacy(attempts: int = 5, pause: float = 0.5) -> None:
    """Import spaCy, retrying while another thread is importing it: spaCy's compiled modules
    import each other circularly, and a second thread can see them half-initialised
    (ImportError or KeyError: 'spacy'). Once the other import finishes, ours succeeds."""
    import importlib
    import time

    for attempt in range(attempts):
        try:
            importlib.import_module("spacy")
            importlib.import_module("unstructured.nlp.tokenize")
            return
        except (ImportError, KeyError):
            if attempt == attempts - 1:
                raise
            time.sleep(pause)


def partition(kind: str, path: Path, text: str | None, languages: list[str]) -> list[Any]:
    """unstructured's raw elements for one file (errors become ``FileRejected``)."""
    _prepare()
    try:
        if kind == "md":
            from unstructured.partition.md import partition_md

            return list(partition_md(text=text, languages=languages))
        if kind == "html":
            from unstructured.partition.html import partition_html

            return list(partition_html(text=text, languages=languages))
        if kind == "text":
            from unstructured.partition.text import partition_text

            return list(partition_text(text=text, languages=languages))
        if kind == "csv":
            from unstructured.partition.csv import partition_csv

            return list(partition_csv(filename=str(path), languages=languages))
        if kind == "docx":
            from unstructured.partition.docx import partition_docx

            return list(partition_docx(filename=str(path), languages=languages))
        if kind == "eml":
            from unstructured.partition.email import partition_email

            return list(partition_email(filename=str(path), languages=languages))
        if kind == "msg":
            from unstructured.partition.msg import partition_msg

            return list(partition_msg(filename=str(path), languages=languages))
        if kind == "pdf":
            return _partition_pdf(path, languages)
    except FileRejected:
        raise
    except Exception as exc:  # a parser failure of any kind is this file's error
        raise _parse_error(kind, exc) from exc
    raise FileRejected("unsupported_type", f"no parser for {kind}")


def _partition_pdf(path: Path, languages: list[str]) -> list[Any]:
    from unstructured.partition.pdf import partition_pdf

    elements = list(partition_pdf(filename=str(path), strategy="fast", languages=languages))
    if sum(len(str(e.text).strip()) for e in elements) >= ocr.MIN_TEXT_CHARS:
        return elements
    _check_pdf_structure(path)  # no text: a scan, or a broken file that parsed to nothing
    return ocr.partition_scanned_pdf(path, languages)


def _check_pdf_structure(path: Path) -> None:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(str(path), strict=True)
        if reader.is_encrypted and not reader.decrypt(""):
            raise FileRejected("encrypted_file", "encrypted PDF: it needs a password")
        pages = len(reader.pages)
    except (PyPdfError, ValueError, KeyError, OSError) as exc:
        message = f"could not parse PDF: {type(exc).__name__}: {exc}"
        raise FileRejected("corrupt_file", message) from None
    if pages == 0:
        raise FileRejected("corrupt_file", "could not parse PDF: it has no pages")


def _parse_error(kind: str, exc: Exception) -> FileRejected:
    name = type(exc).__name__
    text = str(exc) or name
    if "Password" in name or "Encrypt" in name or "password" in text.lower():
        return FileRejected("encrypted_file", f"encrypted {kind.upper()}: it needs a password")
    if kind in ("pdf", "docx", "msg", "eml"):
        return FileRejected("corrupt_file", f"could not parse {kind.upper()}: {name}: {text}")
    return FileRejected("parse_error", f"could not parse {kind}: {name}: {text}")


def to_elements(raw: list[Any]) -> list[Element]:
    out: list[Element] = []
    for el in raw:
        category = type(el).__name__
        if category in _SKIP:
            continue
        text = str(el.text or "").strip()
        if not text:
            continue
        md = el.metadata
        kind: Any = _KIND.get(category, "text")
        html = getattr(md, "text_as_html", None) if kind == "table" else None
        depth = getattr(md, "category_depth", None)
        out.append(
            Element(
                kind=kind,
                text=text,
                level=int(depth or 0) if kind in ("title", "list_item") else 0,
                html=html,
                page=getattr(md, "page_number", None),
            )
        )
    return out


def email_header(raw: list[Any]) -> tuple[str | None, Element | None]:
    """An email's subject (for the title) and a header element (from, to, date)."""
    if not raw:
        return None, None
    md = raw[0].metadata
    subject = getattr(md, "subject", None)
    lines = []
    for label, attr in (("From", "sent_from"), ("To", "sent_to"), ("Cc", "cc_recipient")):
        value = getattr(md, attr, None)
        if value:
            lines.append(f"{label}: {', '.join(value)}")
    date = getattr(md, "last_modified", None)
    if date:
        lines.append(f"Date: {date}")
    if subject:
        lines.append(f"Subject: {subject}")
    return subject, (Element(kind="text", text="\n".join(lines)) if lines else None)
