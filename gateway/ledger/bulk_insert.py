"""Many ledger rows in one DBAPI ``executemany``, as SQLAlchemy's performance notes advise for
bulk inserts.

``Connection.execute(table.insert(), dicts)`` builds and processes a parameter dict per row in
Python; the ledger writer's thread does this for every request the gateway serves, and every
microsecond of it holds the interpreter lock the event loop needs. Here the statement is
compiled once per dialect, each row becomes one tuple (``attrgetter``, in C) and only the
columns whose type the dialect converts (SQLite's datetimes) go through the dialect's own bind
processor, so the stored values are exactly those ``execute`` would store.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import attrgetter
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.engine import Dialect


class BulkInsert:
    """``INSERT`` of objects with one attribute per column (``fields``), for one dialect."""

    def __init__(self, table: Table, fields: Sequence[str], dialect: Dialect) -> None:
        compiled = table.insert().compile(dialect=dialect, column_keys=list(fields))
        self.sql = str(compiled)
        # The parameter order of a positional paramstyle (qmark, format), else the names.
        names = list(compiled.positiontup or ()) if compiled.positional else list(fields)
        self.names = names
        self.positional = compiled.positional
        self._values = attrgetter(*names)
        converters: list[tuple[int, Callable[[Any], Any]]] = []
        for i, name in enumerate(names):
            processor = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                converters.append((i, processor))
        self._converters = converters

    def params(self, rows: Sequence[object]) -> list[Any]:
        """One tuple (positional paramstyles) or dict (named ones) per row."""
        values = self._values
        converters = self._converters
        out: list[Any] = []
        for row in rows:
            value = values(row)
            if converters:
                items = list(value)
                for i, convert in converters:
                    if items[i] is not None:
                        items[i] = convert(items[i])
                value = tuple(items)
            out.append(value if self.positional else dict(zip(self.names, value, strict=True)))
        return out

    def execute(self, conn: Connection, rows: Sequence[object]) -> None:
        if rows:
            conn.exec_driver_sql(self.sql, self.params(rows))
