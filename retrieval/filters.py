"""From an asker and the request's filters to the ``SearchFilter`` the store applies.

The permission part is not optional: ``search_filter`` always sets ``access_tokens`` from the
principal, so every query the store runs is limited to what the asker may read, before
ranking. There is no other way to build a filter in the answer service.
"""

from __future__ import annotations

from kernel.errors import InvalidRequest
from kernel.principal import Principal
from retrieval.answer_types import AskFilters
from retrieval.store.base import SearchFilter

DOC_TYPES = frozenset({"contract", "doc", "ticket"})
MAX_VALUES = 50
MAX_VALUE_LEN = 200


def _clean(field: str, values: list[str]) -> tuple[str, ...]:
    if len(values) > MAX_VALUES:
        raise InvalidRequest(f"filters.{field}: at most {MAX_VALUES} values, got {len(values)}")
    out: list[str] = []
    for v in values:
        s = v.strip()
        if not s:
            raise InvalidRequest(f"filters.{field}: empty value")
        if len(s) > MAX_VALUE_LEN:
            raise InvalidRequest(f"filters.{field}: value longer than {MAX_VALUE_LEN} characters")
        if s not in out:
            out.append(s)
    return tuple(sorted(out))


def validate_filters(filters: AskFilters | None) -> AskFilters:
    """The filters, checked and normalised (sorted, deduplicated); ``InvalidRequest`` if bad."""
    f = filters or AskFilters()
    doc_types = _clean("doc_types", f.doc_types)
    unknown = sorted(set(doc_types) - DOC_TYPES)
    if unknown:
        raise InvalidRequest(
            f"filters.doc_types: unknown type(s) {', '.join(unknown)} "
            f"(known: {', '.join(sorted(DOC_TYPES))})"
        )
    if f.updated_from is not None and f.updated_to is not None and f.updated_from > f.updated_to:
        raise InvalidRequest(
            f"filters: updated_from ({f.updated_from}) is after updated_to ({f.updated_to})"
        )
    return AskFilters(
        doc_types=list(doc_types),
        departments=list(_clean("departments", f.departments)),
        tags=list(_clean("tags", f.tags)),
        updated_from=f.updated_from,
        updated_to=f.updated_to,
    )


def access_scope(principal: Principal) -> tuple[str, ...]:
    """The access tokens the principal may read: never empty (``public`` is always there)."""
    tokens = tuple(sorted(set(principal.access_tokens())))
    if not tokens:  # defensive: a principal type that returns nothing must not mean "all"
        raise InvalidRequest("the caller has no access tokens")
    return tokens


def search_filter(principal: Principal, filters: AskFilters | None = None) -> SearchFilter:
    """The store filter for ``principal`` asking with ``filters`` (validated here)."""
    f = validate_filters(filters)
    return SearchFilter(
        access_tokens=access_scope(principal),
        doc_types=tuple(f.doc_types),
        departments=tuple(f.departments),
        tags=tuple(f.tags),
        updated_from=f.updated_from,
        updated_to=f.updated_to,
    )
