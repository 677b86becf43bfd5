"""From a file to parsed documents: validation, then a loader by kind.

``read_file`` validates (type, size, magic numbers, binary content) and returns the bytes;
``parse_file`` turns a document file into elements with unstructured; ``parse_ticket_export``
turns a JSON/NDJSON/CSV export into one document per ticket. Every failure is a
``FileRejected`` with a clear message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path

from ingest.documents import Element
from ingest.errors import FileRejected
from ingest.loaders.tickets import PARSERS, Ticket, looks_like_tickets
from ingest.validation import TICKET_KINDS, check_content, check_size, decode_text, file_kind

# ISO 639-1 (manifest) -> ISO 639-3 (unstructured, tesseract)
_LANGS = {
    "en": "eng",
    "de": "deu",
    "fr": "fra",
    "es": "spa",
    "it": "ita",
    "nl": "nld",
    "pt": "por",
    "zh": "chi_sim",
    "ja": "jpn",
    "ko": "kor",
}


def languages(code: str) -> list[str]:
    return [_LANGS.get(code.lower(), code.lower() if len(code) == 3 else "eng")]


@dataclass(frozen=True)
class FileData:
    kind: str
    data: bytes


def read_file(path: Path, max_bytes: int) -> FileData:
    kind = file_kind(path)
    check_size(path, max_bytes)
    data = path.read_bytes()
    check_content(kind, data)
    return FileData(kind, data)


def is_ticket_export(fd: FileData, doc_type: str | None, encoding: str | None) -> bool:
    if fd.kind not in TICKET_KINDS:
        if doc_type == "ticket":
            raise FileRejected(
                "unsupported_type",
                f"doc_type ticket needs a JSON, NDJSON or CSV export, not {fd.kind}",
            )
        return False
    if doc_type == "ticket":
        return True
    text = decode_text(fd.data, fd.kind, encoding)
    if fd.kind == "csv" and doc_type is not None:
        return False  # a CSV declared as doc or contract: a table
    if looks_like_tickets(fd.kind, text):
        return True
    if fd.kind == "csv":
        return False
    raise FileRejected(
        "bad_ticket_export",
        f"{fd.kind.upper()} files are ingested as ticket exports, and this one has no ticket "
        "fields (an id plus subject, description or messages)",
    )


def parse_ticket_export(fd: FileData, encoding: str | None) -> list[Ticket]:
    tickets = PARSERS[fd.kind](decode_text(fd.data, fd.kind, encoding))
    if not tickets:
        raise FileRejected("bad_ticket_export", "the export holds no tickets")
    return tickets


_ORDERED_ITEM = re.compile(r"^(\s{0,3})(\d{1,3})([.)])\s", re.M)


def keep_list_numbers(markdown: str) -> str:
    """Escape ordered-list markers ("1. ") so their numbers stay in the text: Markdown
    renders them as <ol> items and unstructured drops the numbers, which contracts (clause
    1., 2. ...) and step lists need."""
    return _ORDERED_ITEM.sub(lambda m: f"{m.group(1)}{m.group(2)}\\{m.group(3)} ", markdown)


@dataclass(frozen=True)
class ParsedFile:
    elements: list[Element]
    title_hint: str | None  # an email's subject


def parse_file(path: Path, fd: FileData, encoding: str | None, language: str) -> ParsedFile:
    from ingest.loaders import unstructured_loader as ul

    text = decode_text(fd.data, fd.kind, encoding) if fd.kind in ("md", "html", "text") else None
    if fd.kind == "md" and text is not None:
        text = keep_list_numbers(text)
    if fd.kind == "csv":
        decode_text(fd.data, fd.kind, encoding)  # reject a bad encoding with a clear message
    raw = ul.partition(fd.kind, path, text, languages(language))
    elements = ul.to_elements(raw)
    if fd.kind == "text":  # plain text has no heading markup: its "titles" are guesses
        elements = [replace(e, kind="text", level=0) if e.kind == "title" else e for e in elements]
    title_hint = None
    if fd.kind in ("eml", "msg"):
        title_hint, header = ul.email_header(raw)
        if header is not None:
            elements.insert(0, header)
    if not elements:
        raise FileRejected("no_text", "no text found in the file")
    return ParsedFile(elements, title_hint)
