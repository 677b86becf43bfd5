"""The evaluation dataset format (JSONL, one question a line) and its loader.

Each line is a JSON object::

    {"id": "leave-01",                                  # optional; default "line-<n>"
     "question": "How many days of annual leave ...?",  # required, non-empty
     "reference": "25 working days, plus ...",          # reference answer (optional)
     "reference_doc_ids": ["hr/leave-policy.md"],       # gold documents (optional)
     "reference_chunk_ids": [],                         # gold chunks (optional)
     "reference_contexts": ["Employees accrue 25 ..."], # gold passage texts (optional)
     "forbidden_doc_ids": ["legal/acme-msa.md"],        # must never reach this asker
     "tags": ["hr", "policy"],
     "principal": {"user_id": "hana", "department": "hr", "groups": ["hr"]},
     "filters": {"doc_types": ["doc"]}}                 # retrieval.answer_types.AskFilters

Blank lines and lines starting with ``#`` or ``//`` are skipped. Unknown keys are an error (a
typo in ``refrence`` must not silently drop the reference). Every error names the file, the
line and the field.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from kernel.digest import sha256_hex
from kernel.errors import InvalidRequest
from kernel.principal import Principal, Role
from retrieval.answer_types import AskFilters


class DatasetError(InvalidRequest):
    """A dataset file is malformed; the message names the file, line and field."""

    code = "invalid_dataset"


class PrincipalSpec(BaseModel):
    """Who asks the question: an employee with a department and groups."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    user_id: str = Field(min_length=1)
    department: str = ""
    groups: tuple[str, ...] = ()

    def to_principal(self) -> Principal:
        return Principal(
            user_id=self.user_id,
            department=self.department,
            groups=self.groups,
            role=Role.EMPLOYEE,
        )

    @property
    def label(self) -> str:
        return f"{self.user_id}@{self.department}" if self.department else self.user_id


DEFAULT_PRINCIPAL = PrincipalSpec(user_id="evaluator")
"""Asks when a line names no principal: reads public documents only."""


class EvalItem(BaseModel):
    """One question of a suite, with what a good answer looks like."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, max_length=200)
    question: str = Field(min_length=1)
    reference: str = ""
    reference_doc_ids: tuple[str, ...] = ()
    reference_chunk_ids: tuple[str, ...] = ()
    reference_contexts: tuple[str, ...] = ()
    forbidden_doc_ids: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    principal: PrincipalSpec = DEFAULT_PRINCIPAL
    filters: AskFilters | None = None

    @field_validator("question")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("must not be blank")
        return v.strip()

    @property
    def gold_ids(self) -> tuple[str, ...]:
        """The ids retrieval is judged against: documents, else chunks."""
        return self.reference_doc_ids or self.reference_chunk_ids


class Dataset(BaseModel):
    """A loaded suite. ``corpus`` is set when the dataset carries its own documents."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    name: str
    path: str
    items: list[EvalItem]
    sha256: str = Field(description="hash of the questions (not of the file's bytes)")
    corpus: Any = Field(default=None, description="evals.corpus.Corpus or None")

    def limited(self, limit: int | None) -> Dataset:
        if limit is None or limit >= len(self.items):
            return self
        return self.model_copy(update={"items": self.items[:limit]})


def _field_of(err: dict[str, Any]) -> str:
    return ".".join(str(p) for p in err["loc"]) or "(line)"


def parse_item(obj: Any, *, where: str, default_id: str) -> EvalItem:
    """Validate one decoded line; ``where`` ("file:line") prefixes every message."""
    if not isinstance(obj, dict):
        raise DatasetError(f"{where}: expected a JSON object, got {type(obj).__name__}")
    data = dict(obj)
    data.setdefault("id", default_id)
    try:
        return EvalItem.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        msg = first["msg"]
        if first["type"] == "extra_forbidden":
            msg = "unknown field (known: " + ", ".join(EvalItem.model_fields) + ")"
        more = f" (and {len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
        raise DatasetError(
            f"{where}: field '{_field_of(dict(first))}': {msg}{more}",
            details={"field": _field_of(dict(first)), "where": where},
        ) from None


def items_sha(items: Iterable[EvalItem]) -> str:
    """The sha256 of the items as JSON lines (what a resumed run checks it still asks)."""
    return sha256_hex("".join(item.model_dump_json() + "\n" for item in items))


def load_jsonl(path: Path) -> Dataset:
    """Load a JSONL suite; raise ``DatasetError`` at the first bad line or duplicate id."""
    if not path.is_file():
        raise DatasetError(f"{path}: no such file")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    items: list[EvalItem] = []
    seen: dict[str, int] = {}
    for lineno, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith(("#", "//")):
            continue
        where = f"{path.name}:{lineno}"
        try:
            obj = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise DatasetError(f"{where}: not valid JSON ({exc.msg}, column {exc.colno})") from None
        item = parse_item(obj, where=where, default_id=f"line-{lineno}")
        if item.id in seen:
            raise DatasetError(
                f"{where}: field 'id': duplicate id {item.id!r} (first on line {seen[item.id]})"
            )
        seen[item.id] = lineno
        items.append(item)
    if not items:
        raise DatasetError(f"{path}: no questions in the file")
    return Dataset(name=path.stem, path=str(path.resolve()), items=items, sha256=items_sha(items))


def dump_jsonl(items: Iterable[EvalItem]) -> str:
    """Items back to the JSONL format (defaults left out)."""
    return "".join(
        json.dumps(i.model_dump(mode="json", exclude_defaults=True), ensure_ascii=False) + "\n"
        for i in items
    )
