"""Fail when a module of ours grows past the size where it should become two modules."""

from __future__ import annotations

import sys
from pathlib import Path

LIMIT = 400
PACKAGES = ("gateway", "retrieval", "ingest", "evals", "console", "loregate")


def main() -> int:
    root = Path(__file__).resolve().parent.parent
    too_big = [
        (path, n)
        for pkg in PACKAGES
        for path in sorted((root / pkg).rglob("*.py"))
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > LIMIT
    ]
    for path, n in too_big:
        print(f"{path.relative_to(root)}: {n} lines (limit {LIMIT}); split it by concept")
    if not too_big:
        print(f"every module is at most {LIMIT} lines")
    return 1 if too_big else 0


if __name__ == "__main__":
    sys.exit(main())
