"""Loader for the Claude-docs RAG set (anthropic-cookbook), read in place by path.

Layout of the folder::

    anthropic_docs.json            [{"chunk_link", "chunk_heading", "text"}, ...]   (the corpus)
    docs_evaluation_dataset.json   [{"id", "question", "correct_chunks", "correct_answer"}, ...]

Every ``chunk_link`` becomes one loregate document whose ``doc_id`` IS the chunk link, so the
gold ``correct_chunks`` map onto loregate's documents one to one, whatever the chunker does
with each of them (a long one may be split into several loregate chunks: any of them counts as
retrieving the gold document).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from evals.corpus import Corpus, CorpusDoc
from evals.dataset import Dataset, DatasetError, items_sha, parse_item

CORPUS_FILE = "anthropic_docs.json"
QUESTIONS_FILE = "docs_evaluation_dataset.json"
COLLECTION = "evals_claude_docs"


def is_claude_docs_folder(path: Path) -> bool:
    return (path / CORPUS_FILE).is_file() and (path / QUESTIONS_FILE).is_file()


def _read_json_list(path: Path) -> list[Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(data, list):
        raise DatasetError(f"{path}: expected a JSON list, got {type(data).__name__}")
    return data


def load_corpus(folder: Path) -> Corpus:
    docs: list[CorpusDoc] = []
    seen: set[str] = set()
    path = folder / CORPUS_FILE
    for n, row in enumerate(_read_json_list(path)):
        where = f"{path.name}[{n}]"
        if not isinstance(row, dict):
            raise DatasetError(f"{where}: expected an object")
        for key in ("chunk_link", "chunk_heading", "text"):
            if not isinstance(row.get(key), str) or not row[key].strip():
                raise DatasetError(f"{where}: field '{key}': missing or not a non-empty string")
        link = row["chunk_link"]
        if link in seen:
            raise DatasetError(f"{where}: field 'chunk_link': duplicate {link!r}")
        seen.add(link)
        page = link.split("#", 1)[0].rstrip("/").rsplit("/", 1)[-1].replace("-", " ")
        docs.append(
            CorpusDoc(
                doc_id=link,
                title=f"{page.capitalize()}: {row['chunk_heading']}"
                if page
                else row["chunk_heading"],
                section=row["chunk_heading"],
                text=row["text"],
                source=link,
                doc_type="doc",
                department="docs",
                tags=("claude-docs",),
            )
        )
    return Corpus(name="claude_docs", collection=COLLECTION, docs=tuple(docs))


def load_claude_docs(folder: Path) -> Dataset:
    """The 100 questions with gold documents and reference answers, plus the 232-doc corpus."""
    corpus = load_corpus(folder)
    known = {d.doc_id for d in corpus.docs}
    by_id = {d.doc_id: d for d in corpus.docs}
    path = folder / QUESTIONS_FILE
    items = []
    for n, row in enumerate(_read_json_list(path)):
        where = f"{path.name}[{n}]"
        if not isinstance(row, dict):
            raise DatasetError(f"{where}: expected an object")
        gold = row.get("correct_chunks", [])
        if not isinstance(gold, list) or not all(isinstance(g, str) for g in gold):
            raise DatasetError(f"{where}: field 'correct_chunks': expected a list of strings")
        unknown = [g for g in gold if g not in known]
        if unknown:
            raise DatasetError(f"{where}: field 'correct_chunks': not in the corpus: {unknown[0]}")
        obj = {
            "id": str(row.get("id") or f"q{n}"),
            "question": row.get("question"),
            "reference": row.get("correct_answer") or "",
            "reference_doc_ids": gold,
            "reference_contexts": [by_id[g].text for g in gold],
            "tags": ["claude-docs"],
        }
        items.append(parse_item(obj, where=where, default_id=f"q{n}"))
    if not items:
        raise DatasetError(f"{path}: no questions")
    return Dataset(
        name="claude_docs",
        path=str(folder.resolve()),
        items=items,
        sha256=items_sha(items),
        corpus=corpus,
    )
