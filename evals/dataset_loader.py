"""Loading a dataset from a path: a JSONL file, or a folder with a known layout (the
Claude-docs RAG set, which carries its own corpus)."""

from __future__ import annotations

from pathlib import Path

from evals.claude_docs import is_claude_docs_folder, load_claude_docs
from evals.dataset import Dataset, DatasetError, load_jsonl


def load_dataset(path: Path) -> Dataset:
    """A JSONL file, or a folder with a known layout (the Claude-docs RAG set)."""
    if path.is_dir():
        if is_claude_docs_folder(path):
            return load_claude_docs(path)
        jsonl = sorted(path.glob("*.jsonl"))
        if len(jsonl) == 1:
            return load_jsonl(jsonl[0])
        raise DatasetError(
            f"{path}: a folder must hold the Claude-docs layout (anthropic_docs.json and "
            f"docs_evaluation_dataset.json) or exactly one .jsonl file (found {len(jsonl)})"
        )
    if path.suffix.lower() not in {".jsonl", ".ndjson"}:
        raise DatasetError(f"{path}: expected a .jsonl file or a dataset folder")
    return load_jsonl(path)
