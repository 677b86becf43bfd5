"""The ledger's attempt rows of a period, grouped into billable cells (the invoices' input).

Only ``kind = 'attempt'`` rows are read: each is one model call with its own model, tokens
and exact cost (a request row repeats the sum of its attempts). A cell is one (department,
project, tag, model, token kind, day) with its tokens, its nano-USD and the requests that
reached it. A kind's nano-USD is its tokens times the model's price per token from the route
catalogue; whatever of the row's ledger cost that does not explain (a model no longer
configured, a price changed since) is kept as the kind ``other``, so every cell sum equals the
ledger's ``cost_nano_usd`` sum to the nano-dollar.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Engine, Select, select

from gateway.config import GatewayConfig
from gateway.ledger.rows import LedgerRow
from gateway.ledger.tables import ledger

TOKEN_KINDS = ("input", "output", "cache_write_5m", "cache_write_1h", "cache_read")
OTHER = "other"
KINDS = (*TOKEN_KINDS, OTHER)
_TOKEN_COLUMNS = (
    "input_tokens",
    "output_tokens",
    "cache_write_5m_tokens",
    "cache_write_1h_tokens",
    "cache_read_tokens",
)

Prices = Callable[[str], tuple[int, int, int, int, int] | None]
"""model alias -> nano-USD per token (input, output, write 5m, write 1h, read), or None."""


def prices_from(config: GatewayConfig) -> Prices:
    """The configured models' nano-USD prices per token (None for a model not configured)."""

    def prices(alias: str) -> tuple[int, int, int, int, int] | None:
        spec = config.find_model(alias)
        return None if spec is None else spec.nano_prices

    return prices


@dataclass(frozen=True, order=True)
class CellKey:
    department: str
    project: str
    tag: str
    model: str
    kind: str
    day: date


@dataclass
class Cell:
    tokens: int = 0
    nano_usd: int = 0
    requests: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class AttemptRow:
    id: int
    request_id: str
    created_at: datetime
    department: str
    project: str
    tag: str
    model: str
    model_id: str
    provider: str
    tier: int | None
    outcome: str
    tokens: tuple[int, int, int, int, int]
    cost_nano_usd: int

    @property
    def day(self) -> date:
        return self.created_at.astimezone(UTC).date()


def in_period(
    stmt: Select[Any],
    kind: str,
    start: datetime,
    end: datetime,
    after_id: int | None = None,
    up_to_id: int | None = None,
    department: str | None = None,
    project: str | None = None,
) -> Select[Any]:
    """``stmt`` over the ledger's rows of ``kind`` with ``start <= created_at < end``, in the id
    window and of the subject given, oldest first."""
    t = ledger
    stmt = stmt.where(t.c.kind == kind, t.c.created_at >= start, t.c.created_at < end)
    if after_id is not None:
        stmt = stmt.where(t.c.id > after_id)
    if up_to_id is not None:
        stmt = stmt.where(t.c.id <= up_to_id)
    if department is not None:
        stmt = stmt.where(t.c.department == department)
    if project is not None:
        stmt = stmt.where(t.c.project == project)
    return stmt.order_by(t.c.id)


def attempt_rows(
    engine: Engine,
    start: datetime,
    end: datetime,
    *,
    after_id: int | None = None,
    up_to_id: int | None = None,
    department: str | None = None,
    project: str | None = None,
) -> Iterator[AttemptRow]:
    """The attempt rows with ``start <= created_at < end`` (and the id window), oldest first."""
    t = ledger
    stmt = select(
        t.c.id,
        t.c.request_id,
        t.c.created_at,
        t.c.department,
        t.c.project,
        t.c.tag,
        t.c.model_alias,
        t.c.model_id,
        t.c.provider,
        t.c.tier,
        t.c.outcome,
        *(t.c[c] for c in _TOKEN_COLUMNS),
        t.c.cost_nano_usd,
    )
    stmt = in_period(stmt, "attempt", start, end, after_id, up_to_id, department, project)
    with engine.connect() as conn:
        for r in conn.execute(stmt.execution_options(yield_per=2000)):
            yield _attempt(int(r.id), dict(r._mapping))


def from_ledger_rows(rows: Iterable[LedgerRow]) -> list[AttemptRow]:
    """The attempt rows of ledger rows held in memory (``MemoryLedger``), as read from SQL."""
    return [_attempt(i, r.as_dict()) for i, r in enumerate(rows, start=1) if r.kind == "attempt"]


def _attempt(row_id: int, m: Mapping[str, Any]) -> AttemptRow:
    """An attempt row from the ledger's columns (a SQL row's mapping or ``LedgerRow.as_dict``)."""
    created: datetime = m["created_at"]
    t0, t1, t2, t3, t4 = (int(m[c]) for c in _TOKEN_COLUMNS)
    return AttemptRow(
        id=row_id,
        request_id=m["request_id"],
        created_at=created if created.tzinfo else created.replace(tzinfo=UTC),
        department=m["department"],
        project=m["project"],
        tag=m["tag"] or "",
        model=m["model_alias"],
        model_id=m["model_id"],
        provider=m["provider"],
        tier=m["tier"],
        outcome=m["outcome"],
        tokens=(t0, t1, t2, t3, t4),
        cost_nano_usd=int(m["cost_nano_usd"]),
    )


def kind_costs(row: AttemptRow, prices: Prices) -> dict[str, int]:
    """The row's nano-USD by token kind (plus ``other``: what the price list does not explain)."""
    per_token = prices(row.model)
    costs: dict[str, int] = {}
    if per_token is not None:
        for kind, tokens, price in zip(TOKEN_KINDS, row.tokens, per_token, strict=True):
            costs[kind] = tokens * price
    rest = row.cost_nano_usd - sum(costs.values())
    if rest:
        costs[OTHER] = rest
    return costs


def cells(rows: Iterator[AttemptRow], prices: Prices) -> dict[CellKey, Cell]:
    """Group attempt rows into billable cells (see the module docstring)."""
    out: dict[CellKey, Cell] = {}
    for row in rows:
        costs = kind_costs(row, prices)
        tokens = dict(zip(TOKEN_KINDS, row.tokens, strict=True))
        for kind in KINDS:
            n = tokens.get(kind, 0)
            nano = costs.get(kind, 0)
            if not n and not nano:
                continue
            key = CellKey(row.department, row.project, row.tag, row.model, kind, row.day)
            cell = out.setdefault(key, Cell())
            cell.tokens += n
            cell.nano_usd += nano
            cell.requests.add(row.request_id)
    return out
