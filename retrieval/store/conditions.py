"""A ``SearchFilter`` as a backend-neutral list of conditions (each backend maps them).

The access condition always comes first and is never optional: a filter with no access
token matches nothing, so backends return no result without running a query.
"""

from __future__ import annotations

from dataclasses import dataclass

from retrieval import schema
from retrieval.store.base import SearchFilter


@dataclass(frozen=True)
class AnyOf:
    """The payload field (a keyword or a list of keywords) holds at least one of ``values``."""

    key: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Between:
    """The numeric payload field lies within [gte, lte] (either bound may be open)."""

    key: str
    gte: float | None
    lte: float | None


Condition = AnyOf | Between


def conditions(flt: SearchFilter) -> list[Condition]:
    """All conditions of ``flt`` (to be AND-ed), the access condition first."""
    out: list[Condition] = [AnyOf(schema.ACCESS, tuple(flt.access_tokens))]
    for key, values in (
        (schema.DOC_TYPE, flt.doc_types),
        (schema.DEPARTMENT, flt.departments),
        (schema.TAGS, flt.tags),
        (schema.DOC_ID, flt.doc_ids),
    ):
        if values:
            out.append(AnyOf(key, tuple(values)))
    if flt.updated_from is not None or flt.updated_to is not None:
        out.append(Between(schema.UPDATED_AT, flt.updated_from, flt.updated_to))
    return out


def matches_nothing(flt: SearchFilter) -> bool:
    """True when the filter cannot match any point (no access token at all)."""
    return not flt.access_tokens
