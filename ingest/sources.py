"""What to ingest: a folder (walked recursively), a tree, or a list of files; each file with
its metadata from the manifest, and a stable document id.

Document ids are ``<scope>:<path relative to the source root>`` for files and
``<scope>:ticket:<id>`` for tickets, so they survive moving the source folder and never
depend on timestamps. The scope (``--source``, else the manifest's ``source``, else the
root folder's name) is also what ``--prune`` compares against.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ingest.errors import SourceNotFound
from ingest.manifest import FileMeta, Manifest

_JUNK = frozenset({"Thumbs.db", "desktop.ini"})


@dataclass(frozen=True)
class SourceFile:
    path: Path  # absolute
    rel: str  # POSIX, relative to the source root
    meta: FileMeta


@dataclass(frozen=True)
class Source:
    root: Path
    scope: str
    files: list[SourceFile]


def file_doc_id(scope: str, rel: str) -> str:
    return f"{scope}:{rel}"


def ticket_doc_id(scope: str, ticket_id: str) -> str:
    return f"{scope}:ticket:{ticket_id}"


def _skip(name: str) -> bool:
    return name.startswith((".", "~$")) or name in _JUNK


def _walk(folder: Path) -> list[Path]:
    out: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not _skip(d))
        out.extend(Path(dirpath) / f for f in sorted(filenames) if not _skip(f))
    return out


def discover(
    paths: Sequence[Path],
    manifest: Manifest,
    *,
    scope: str | None = None,
    exclude: Sequence[Path] = (),
) -> Source:
    """Every file under ``paths`` (sorted), with its metadata; ``SourceNotFound`` when a path
    does not exist."""
    if not paths:
        raise SourceNotFound("no path given to ingest")
    resolved = []
    for p in paths:
        rp = Path(p).expanduser().resolve()
        if not rp.exists():
            raise SourceNotFound(f"no such file or folder: {p}")
        resolved.append(rp)
    if len(resolved) == 1 and resolved[0].is_dir():
        root = resolved[0]
    else:
        parents = [p if p.is_dir() else p.parent for p in resolved]
        root = Path(os.path.commonpath([str(p) for p in parents]))
    skip = {Path(e).resolve() for e in exclude}
    files: list[Path] = []
    for p in resolved:
        files.extend(_walk(p) if p.is_dir() else [p])
    unique = sorted({f for f in files if f not in skip})
    items = []
    for f in unique:
        rel = f.relative_to(root).as_posix()
        items.append(SourceFile(path=f, rel=rel, meta=manifest.resolve(rel)))
    name = scope or manifest.source or root.name or "source"
    return Source(root=root, scope=name, files=items)
