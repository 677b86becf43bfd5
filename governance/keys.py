"""API keys: created once, stored as a sha256 hash, shown again only by their prefix.

A key looks like ``lg_ab12cd34_<43 url-safe characters>``: ``lg_ab12cd34`` is its id (the
prefix listed by ``loregate keys list`` and written on ledger rows as ``key_id``), the rest is
256 bits of randomness. Only ``sha256(key)`` is stored: with that much entropy a fast hash is
enough, and a leaked table yields no usable key.

``lookup`` runs on every request: hits are cached in memory for ``cache_ttl_s`` seconds
(a revocation made by another process takes effect within that time; one made through this
store takes effect at once).
"""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from governance.tables import api_keys
from kernel.digest import sha256_hex
from kernel.errors import AuthenticationError, InvalidRequest, NotFound
from kernel.principal import Principal, Role
from kernel.ttl_memo import TtlMemo

KEY_PREFIX = "lg_"
KEY_PATTERN = re.compile(r"^lg_[0-9a-f]{8}_[A-Za-z0-9_-]{43}$")
ID_PATTERN = re.compile(r"^lg_[0-9a-f]{8}$")
_NAME = re.compile(r"^[^\s,][^,]{0,127}$")


def hash_key(key: str) -> str:
    return sha256_hex(key)


def new_key() -> tuple[str, str]:
    """(key id, full key)."""
    key_id = KEY_PREFIX + secrets.token_hex(4)
    return key_id, f"{key_id}_{secrets.token_urlsafe(32)}"


@dataclass(frozen=True)
class KeyRecord:
    """A key as listed (never the key itself)."""

    id: str
    user_id: str
    department: str
    project: str
    groups: tuple[str, ...]
    role: Role
    allowed_routes: tuple[str, ...]
    allowed_models: tuple[str, ...]
    description: str
    created_at: datetime
    created_by: str
    revoked_at: datetime | None
    tag: str = ""  # the allocation tag requests carry unless they send their own

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def principal(self) -> Principal:
        return Principal(
            user_id=self.user_id,
            department=self.department,
            project=self.project,
            groups=self.groups,
            role=self.role,
            allowed_routes=self.allowed_routes,
            allowed_models=self.allowed_models,
            key_id=self.id,
            tag=self.tag,
        )

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "user": self.user_id,
            "department": self.department,
            "project": self.project,
            "groups": list(self.groups),
            "role": self.role.value,
            "routes": list(self.allowed_routes),
            "models": list(self.allowed_models),
            "description": self.description,
            "created_at": self.created_at.isoformat(),
            "created_by": self.created_by,
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
            "tag": self.tag,
        }


@dataclass(frozen=True)
class NewKey:
    """What ``create`` returns: the full key (shown once) and its record."""

    key: str
    record: KeyRecord


def _names(values: Sequence[str], what: str) -> tuple[str, ...]:
    out: list[str] = []
    for raw in values:
        value = raw.strip()
        if not value:
            continue
        if not _NAME.match(value):
            raise InvalidRequest(f"bad {what} {raw!r}: 1-128 characters, no commas")
        out.append(value)
    return tuple(dict.fromkeys(out))


def _field(value: str, what: str, *, required: bool = False) -> str:
    value = value.strip()
    if required and not value:
        raise InvalidRequest(f"{what} is required")
    if value and not _NAME.match(value):
        raise InvalidRequest(f"bad {what} {value!r}: 1-128 characters, no commas")
    return value


_TAG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/@-]{0,127}$")


def check_tag(value: str, what: str = "tag") -> str:
    """An allocation tag (cost centre or task): 1-128 of letters, digits and ``._:/@-``."""
    value = value.strip()
    if value and not _TAG.match(value):
        raise InvalidRequest(
            f"bad {what} {value!r}: 1-128 characters of letters, digits and ._:/@- "
            "(starting with a letter or digit)"
        )
    return value


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _record(row: object) -> KeyRecord:
    m = row._mapping  # type: ignore[attr-defined]
    created = _aware(m["created_at"])
    assert created is not None
    return KeyRecord(
        id=m["id"],
        user_id=m["user_id"],
        department=m["department"],
        project=m["project"],
        groups=tuple(json.loads(m["groups"])),
        role=Role(m["role"]),
        allowed_routes=tuple(json.loads(m["allowed_routes"])),
        allowed_models=tuple(json.loads(m["allowed_models"])),
        description=m["description"],
        created_at=created,
        created_by=m["created_by"],
        revoked_at=_aware(m["revoked_at"]),
        tag=m["tag"] or "",
    )


class KeyStore:
    def __init__(
        self,
        engine: Engine,
        *,
        cache_ttl_s: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        self.cache_ttl_s = cache_ttl_s
        # key hash -> principal; a revocation here clears it, elsewhere it expires with the TTL
        self._cache: TtlMemo[str, Principal] = TtlMemo(
            maxsize=10_000, ttl_s=cache_ttl_s, timer=monotonic
        )

    # Management -------------------------------------------------------------------------------
    def create(
        self,
        *,
        user: str,
        department: str = "",
        project: str = "",
        role: Role | str = Role.EMPLOYEE,
        groups: Sequence[str] = (),
        routes: Sequence[str] = (),
        models: Sequence[str] = (),
        description: str = "",
        created_by: str = "",
        tag: str = "",
    ) -> NewKey:
        try:
            role = Role(role)
        except ValueError:
            choices = ", ".join(r.value for r in Role)
            raise InvalidRequest(f"unknown role {role!r} (one of: {choices})") from None
        values = {
            "user_id": _field(user, "user", required=True),
            "department": _field(department, "department"),
            "project": _field(project, "project"),
            "groups": json.dumps(list(_names(groups, "group"))),
            "role": role.value,
            "allowed_routes": json.dumps(list(_names(routes, "route"))),
            "allowed_models": json.dumps(list(_names(models, "model"))),
            "description": description.strip()[:500],
            "created_at": datetime.now(UTC),
            "created_by": created_by,
            "tag": check_tag(tag),
        }
        for _ in range(5):
            key_id, key = new_key()
            try:
                with self.engine.begin() as conn:
                    conn.execute(
                        insert(api_keys).values(id=key_id, key_hash=hash_key(key), **values)
                    )
            except IntegrityError:  # a prefix collision (1 in 4 billion): draw again
                continue
            return NewKey(key=key, record=self.get(key_id))
        raise RuntimeError("could not draw a unique key id")  # pragma: no cover

    def get(self, key_id: str) -> KeyRecord:
        with self.engine.connect() as conn:
            row = conn.execute(select(api_keys).where(api_keys.c.id == key_id)).first()
        if row is None:
            raise NotFound(f"no API key {key_id!r}", details={"key_id": key_id})
        return _record(row)

    def list_keys(self, *, include_revoked: bool = False) -> list[KeyRecord]:
        query = select(api_keys).order_by(api_keys.c.created_at, api_keys.c.id)
        if not include_revoked:
            query = query.where(api_keys.c.revoked_at.is_(None))
        with self.engine.connect() as conn:
            return [_record(r) for r in conn.execute(query)]

    def revoke(self, key_id: str) -> KeyRecord:
        """Revoke a key by its id (the prefix); revoking twice is a no-op."""
        key_id = key_id.strip()
        if KEY_PATTERN.match(key_id):  # a whole key was pasted: use its id
            key_id = key_id[:11]
        if not ID_PATTERN.match(key_id):
            raise InvalidRequest(f"bad key id {key_id!r}: expected lg_ followed by 8 hex digits")
        with self.engine.begin() as conn:
            conn.execute(
                update(api_keys)
                .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=datetime.now(UTC))
            )
        record = self.get(key_id)
        self._cache.clear()
        return record

    def count_active_admins(self) -> int:
        with self.engine.connect() as conn:
            return int(
                conn.execute(
                    select(func.count())
                    .select_from(api_keys)
                    .where(api_keys.c.role == Role.ADMIN.value, api_keys.c.revoked_at.is_(None))
                ).scalar_one()
            )

    # The hot path -----------------------------------------------------------------------------
    def cached(self, key: str) -> Principal | None:
        """The principal of ``key`` if it was looked up recently (no I/O)."""
        return self._cache.get(hash_key(key))

    def lookup(self, key: str) -> Principal:
        """The principal behind ``key``; ``AuthenticationError`` if unknown or revoked."""
        if not KEY_PATTERN.match(key):
            raise AuthenticationError("invalid API key")
        hit = self.cached(key)
        if hit is not None:
            return hit
        digest = hash_key(key)
        with self.engine.connect() as conn:
            row = conn.execute(select(api_keys).where(api_keys.c.key_hash == digest)).first()
        if row is None:
            raise AuthenticationError("invalid API key")
        record = _record(row)
        if not record.active:
            raise AuthenticationError(f"API key {record.id} was revoked")
        principal = record.principal()
        self._cache.put(digest, principal)
        return principal
