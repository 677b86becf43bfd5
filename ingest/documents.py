"""What flows through ingestion: parsed documents (made of elements) and their chunks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from kernel.digest import canonical_json, sha256_hex

DocType = Literal["contract", "doc", "ticket"]
DOC_TYPES: tuple[str, ...] = get_args(DocType)

ElementKind = Literal["title", "text", "list_item", "table", "code", "message"]


@dataclass(frozen=True)
class Element:
    """One typed piece of a document, in reading order.

    - ``title``: a heading; ``level`` is its depth (smaller = higher; only order matters).
    - ``text``, ``list_item``, ``code``: body text.
    - ``table``: ``text`` is a plain rendering; ``html`` the table as HTML (rows kept).
    - ``message``: one message of a ticket thread; ``author`` and ``time`` say who and when.
    """

    kind: ElementKind
    text: str
    level: int = 0
    html: str | None = None
    page: int | None = None
    author: str | None = None
    time: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v not in (None, 0, "")}


@dataclass(frozen=True)
class ParsedDocument:
    """A document ready for chunking: from a file of a source, or handed in already parsed
    (``Ingestor.ingest_documents``).

    ``text`` is used when ``elements`` is empty (split into paragraphs at blank lines).
    ``access`` holds access tokens (``public``, ``group:<g>``, ``user:<u>``, ``dept:<d>``; see
    ``retrieval.schema``). ``metadata`` adds payload keys (str, int, float, bool or list of
    str); ticket documents carry ``status``, ``priority``, ``product`` and ``customer`` there.
    """

    doc_id: str
    title: str
    text: str = ""
    elements: tuple[Element, ...] = ()
    doc_type: DocType = "doc"
    access: tuple[str, ...] = ("public",)
    department: str = ""
    owner: str = ""
    tags: tuple[str, ...] = ()
    language: str = "en"
    source: str = ""
    updated_at: float | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def content_hash(self) -> str:
        """Hash of everything that reaches a chunk's text (not of access or other metadata)."""
        body = {
            "title": self.title,
            "text": self.text,
            "elements": [e.as_json() for e in self.elements],
            "doc_type": self.doc_type,
        }
        return _sha(body)

    def meta_hash(self) -> str:
        """Hash of the metadata copied into every chunk's payload (access list included)."""
        meta = {
            "access": sorted(self.access),
            "department": self.department,
            "owner": self.owner,
            "tags": sorted(self.tags),
            "language": self.language,
            "source": self.source,
            "metadata": dict(sorted(self.metadata.items())),
        }
        return _sha(meta)


@dataclass(frozen=True)
class Chunk:
    """One piece of a document to embed. ``text`` is exactly what is embedded and stored:
    a short context header (title, clause path or breadcrumb) followed by the body."""

    index: int
    text: str
    section: str
    extra: Mapping[str, Any] = field(default_factory=dict)


def _sha(value: Any) -> str:
    # json's spaced separators: the form the stored hashes were made in (kernel.digest)
    return sha256_hex(canonical_json(value, default=str, compact=False))
