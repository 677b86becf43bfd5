"""Execute every notebook in notebooks/ so none of them rots (fails on the first error)."""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def main() -> int:
    root = Path(__file__).resolve().parent.parent
    notebooks = sorted((root / "notebooks").glob("*.ipynb"))
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        NotebookClient(
            nb,
            timeout=600,
            kernel_name="python3",
            resources={"metadata": {"path": str(path.parent)}},
        ).execute()
        print(f"executed {path.relative_to(root)}")
    if not notebooks:
        print("no notebooks")
    return 0


if __name__ == "__main__":
    sys.exit(main())
