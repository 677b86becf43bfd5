"""Checks every file passes before parsing, and strict text decoding.

Each failure is a ``FileRejected`` with a code and a message that names the problem and,
where there is one, the fix.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from ingest.errors import FileRejected

# extension -> kind
SUPPORTED: dict[str, str] = {
    ".pdf": "pdf",
    ".docx": "docx",
    ".html": "html",
    ".htm": "html",
    ".md": "md",
    ".markdown": "md",
    ".txt": "text",
    ".text": "text",
    ".eml": "eml",
    ".msg": "msg",
    ".json": "json",
    ".ndjson": "ndjson",
    ".jsonl": "ndjson",
    ".csv": "csv",
}
TEXT_KINDS = frozenset({"html", "md", "text", "json", "ndjson", "csv"})
TICKET_KINDS = frozenset({"json", "ndjson", "csv"})

_MAGIC = {
    "pdf": (b"%PDF-", "not a PDF file (no %PDF- header)"),
    "docx": (b"PK\x03\x04", "not a Word .docx file (not a zip archive); old .doc is unsupported"),
    "msg": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "not an Outlook .msg file (no OLE header)"),
}
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.I)


def file_kind(path: Path) -> str:
    kind = SUPPORTED.get(path.suffix.lower())
    if kind is None:
        supported = ", ".join(sorted(SUPPORTED))
        shown = path.suffix or "(no extension)"
        raise FileRejected("unsupported_type", f"unsupported file type {shown} ({supported})")
    return kind


def check_size(path: Path, max_bytes: int) -> int:
    size = path.stat().st_size
    if size == 0:
        raise FileRejected("empty_file", "empty file (0 bytes)")
    if size > max_bytes:
        raise FileRejected(
            "file_too_large",
            f"file is {_human(size)}, over the limit of {_human(max_bytes)} "
            "(LOREGATE_MAX_FILE_BYTES)",
        )
    return size


def check_content(kind: str, data: bytes) -> None:
    """Magic numbers for binary formats; no binary content in text formats."""
    if kind in _MAGIC:
        magic, message = _MAGIC[kind]
        head = data[:1024]
        if (kind == "pdf" and magic not in head) or (kind != "pdf" and not data.startswith(magic)):
            raise FileRejected("corrupt_file", message)
    if kind in TEXT_KINDS and _looks_binary(data):
        raise FileRejected("binary_content", "binary data in a file named as text: not ingested")


def _looks_binary(data: bytes) -> bool:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    head = data[:8192]
    if b"\x00" in head:
        return True
    control = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13, 27))
    return control > len(head) * 0.1


def decode_text(data: bytes, kind: str, encoding: str | None = None) -> str:
    """Decode strictly: the manifest's encoding, else a BOM, else an HTML meta charset, else
    UTF-8. Never guesses: a file that is not valid in that encoding is rejected, and the
    message says how to declare the right one."""
    if encoding is None:
        if data.startswith(codecs.BOM_UTF8):
            encoding, data = "utf-8", data[len(codecs.BOM_UTF8) :]
        elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            encoding = "utf-16"
        elif kind == "html" and (m := _META_CHARSET.search(data[:4096])):
            encoding = m.group(1).decode("ascii").lower()
            try:
                codecs.lookup(encoding)
            except LookupError:
                encoding = "utf-8"
        else:
            encoding = "utf-8"
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        bad = data[exc.start : exc.start + 1].hex()
        raise FileRejected(
            "bad_encoding",
            f"not valid {encoding} (byte 0x{bad} at offset {exc.start}); if the file uses "
            "another encoding, declare it in the manifest (encoding: latin-1)",
        ) from None


def _human(n: int) -> str:
    value = float(n)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{int(value)} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} bytes"  # pragma: no cover
