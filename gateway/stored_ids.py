"""Which of some ids a table already holds: how a writer that may have written a batch
before it failed (a crash, a dead child process) writes the rest without doubles."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine

CHUNK = 500  # ids per query: far below every database's limit of bound parameters


def present(engine: Engine, column: sa.Column[Any], ids: Sequence[str]) -> set[str]:
    """The values of ``ids`` that ``column`` holds."""
    found: set[str] = set()
    with engine.connect() as conn:
        for start in range(0, len(ids), CHUNK):
            part = list(ids[start : start + CHUNK])
            found.update(
                conn.execute(sa.select(column).where(column.in_(part)).distinct()).scalars()
            )
    return found
