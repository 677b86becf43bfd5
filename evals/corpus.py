"""A corpus carried by a dataset: documents already parsed, ingested by the eval run itself."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field


@dataclass(frozen=True)
class CorpusDoc:
    """One pre-parsed document; ``doc_id`` is what the dataset's gold ids name."""

    doc_id: str
    title: str
    text: str
    source: str
    section: str = ""
    doc_type: str = "doc"
    department: str = ""
    access: tuple[str, ...] = ("public",)
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Corpus:
    """The documents of a dataset, ingested into their own collection (``collection``)."""

    name: str
    collection: str
    docs: tuple[CorpusDoc, ...] = field(default_factory=tuple)

    @property
    def sha256(self) -> str:
        h = hashlib.sha256()
        for d in self.docs:
            for part in (d.doc_id, d.title, d.section, d.source, d.text):
                h.update(part.encode())
                h.update(b"\0")
        return h.hexdigest()

    def doc(self, doc_id: str) -> CorpusDoc | None:
        for d in self.docs:
            if d.doc_id == doc_id:
                return d
        return None
