"""The ingestion manifest: metadata per path glob, in YAML.

    source: northwind            # the source scope (default: the folder's name)
    defaults:                    # applied to every file first
      access: public
      language: en
    rules:                       # then every matching rule, in order (later keys win)
      - match: "contracts/**"
        doc_type: contract       # contract | doc | ticket
        department: legal
        owner: legal-ops@northwind.example
        access: [group:legal]    # or "public", or {groups: [...], users: [...], departments: [...]}
        tags: [contract]
        identity: ["Northwind Ltd", "Acme Corp"]   # what tells it from look-alikes
      - match: "contracts/acme-msa.pdf"
        title: Acme Corp Master Services Agreement   # the title every chunk carries
      - match: "*.txt"           # a pattern without "/" matches the file name in any folder
        encoding: latin-1        # for text files that are not UTF-8

Where the manifest is silent: doc_type is inferred (ticket exports by extension and content,
contracts by name: agreement, contract, nda, msa, sow, terms; otherwise doc), the title from
the document, language ``en``, and access ``public``: documents without an access list are
readable by everyone, and the CLI says how many there were.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ingest.documents import DocType
from ingest.errors import InvalidManifest
from retrieval import schema

_TOKEN = re.compile(r"^(public|(user|group|dept):[^\s,]+)$")


def normalise_access(value: Any) -> tuple[str, ...]:
    """``"public"``, a list of tokens, or {groups, users, departments, public} -> tokens."""
    tokens: list[str] = []
    if isinstance(value, str):
        value = [value]
    if isinstance(value, dict):
        unknown = set(value) - {"groups", "users", "departments", "public"}
        if unknown:
            raise ValueError(f"unknown access keys: {', '.join(sorted(unknown))}")
        if value.get("public"):
            tokens.append(schema.PUBLIC)
        tokens += [schema.group_token(str(g)) for g in value.get("groups") or []]
        tokens += [schema.user_token(str(u)) for u in value.get("users") or []]
        tokens += [schema.dept_token(str(d)) for d in value.get("departments") or []]
    elif isinstance(value, list | tuple):
        for item in value:
            token = str(item).strip()
            if not _TOKEN.match(token):
                raise ValueError(
                    f"bad access token {token!r}: use public, group:<name>, user:<id> or "
                    "dept:<department>"
                )
            tokens.append(token)
    else:
        raise ValueError("access must be public, a list of tokens, or a mapping")
    if not tokens:
        raise ValueError("access list is empty: nobody could read these documents")
    return tuple(sorted(set(tokens)))


class RuleFields(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    doc_type: DocType | None = None
    owner: str | None = None
    department: str | None = None
    access: tuple[str, ...] | None = None
    tags: tuple[str, ...] | None = None
    language: str | None = None
    encoding: str | None = None
    # identity (ingest.identity): the title every chunk carries, and facts that tell this
    # document from look-alikes (parties, company, period), where the text does not say them
    title: str | None = Field(default=None, min_length=1, max_length=300)
    identity: tuple[str, ...] | None = None

    @field_validator("access", mode="before")
    @classmethod
    def _access(cls, v: Any) -> tuple[str, ...] | None:
        return None if v is None else normalise_access(v)

    @field_validator("tags", "identity", mode="before")
    @classmethod
    def _tags(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v

    @field_validator("encoding")
    @classmethod
    def _encoding(cls, v: str | None) -> str | None:
        if v is not None:
            import codecs

            try:
                codecs.lookup(v)
            except LookupError:
                raise ValueError(f"unknown encoding {v!r}") from None
        return v


class Rule(RuleFields):
    match: str = Field(min_length=1)


class Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.-]+$")
    defaults: RuleFields = RuleFields()
    rules: tuple[Rule, ...] = ()

    def resolve(self, rel_path: str) -> FileMeta:
        """The metadata of the file at ``rel_path`` (POSIX, relative to the source root)."""
        merged: dict[str, Any] = self.defaults.model_dump(exclude_none=True)
        for rule in self.rules:
            if glob_match(rule.match, rel_path):
                merged.update(rule.model_dump(exclude_none=True, exclude={"match"}))
        return FileMeta(
            doc_type=merged.get("doc_type"),
            owner=merged.get("owner", ""),
            department=merged.get("department", ""),
            access=tuple(merged["access"]) if "access" in merged else (schema.PUBLIC,),
            access_set=("access" in merged),
            tags=tuple(merged.get("tags", ())),
            language=merged.get("language", "en"),
            encoding=merged.get("encoding"),
            title=merged.get("title"),
            identity=tuple(merged.get("identity", ())),
        )


@dataclass(frozen=True)
class FileMeta:
    doc_type: DocType | None  # None: infer from the file
    owner: str
    department: str
    access: tuple[str, ...]
    access_set: bool  # False: the manifest gave no access list (public by default)
    tags: tuple[str, ...]
    language: str
    encoding: str | None
    title: str | None = None
    identity: tuple[str, ...] = ()


EMPTY = Manifest()


def load_manifest(path: Path | None) -> Manifest:
    """Read and validate a manifest file; raise ``InvalidManifest`` naming what is wrong."""
    if path is None:
        return EMPTY
    if not path.is_file():
        raise InvalidManifest(f"manifest not found: {path}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise InvalidManifest(f"manifest {path} is not valid YAML: {exc}") from None
    return parse_manifest(data, str(path))


def parse_manifest(data: Any, where: str = "manifest") -> Manifest:
    if not isinstance(data, dict):
        raise InvalidManifest(f"{where}: expected a mapping with source, defaults and rules")
    try:
        return Manifest.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"])
            problems.append(f"{loc}: {err['msg']}")
        raise InvalidManifest(f"{where} is invalid: " + "; ".join(problems)) from None


def glob_match(pattern: str, rel_path: str) -> bool:
    """gitignore-style: ``**`` spans folders, ``*`` and ``?`` stay within one; a pattern with
    no ``/`` matches the file name at any depth."""
    if "/" not in pattern.rstrip("/"):
        return _compile(pattern).fullmatch(rel_path.rsplit("/", 1)[-1]) is not None
    return _compile(pattern.lstrip("/")).fullmatch(rel_path) is not None


@lru_cache(maxsize=512)
def _compile(pattern: str) -> re.Pattern[str]:
    out = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out))
