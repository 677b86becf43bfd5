"""Console sessions: a loregate key exchanged once for a server-side session.

Sign-in checks the key with ``KeyStore.lookup`` (the API's own check); the browser then holds
only a random session token in an HttpOnly, SameSite=Strict cookie, never the key. Only the
token's sha256 is stored (as with keys). Each session carries its own CSRF token, which every
change must echo (form field ``csrf`` or header ``X-CSRF-Token``). A session ends at its expiry,
at sign-out, or as soon as its key is revoked (the principal is re-read from the key store,
cached for ``cache_ttl_s`` like the key store's own lookups).
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, delete, insert, select, update

from console.tables import sessions
from governance.keys import KeyStore
from kernel.digest import sha256_hex
from kernel.errors import AuthenticationError, PermissionDenied
from kernel.principal import Principal
from kernel.ttl_memo import TtlMemo

COOKIE = "lg_console"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"


@dataclass(frozen=True)
class Session:
    principal: Principal
    csrf: str
    expires_at: datetime


@dataclass(frozen=True)
class NewSession:
    token: str  # goes into the cookie, nowhere else
    session: Session


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


class SessionStore:
    def __init__(
        self,
        engine: Engine,
        keys: KeyStore,
        *,
        ttl: timedelta = timedelta(hours=8),
        cache_ttl_s: float = 5.0,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        self.keys = keys
        self.ttl = ttl
        self.now = now
        self._cache: TtlMemo[str, Session] = TtlMemo(
            maxsize=10_000, ttl_s=cache_ttl_s, timer=monotonic
        )

    def sign_in(self, key: str) -> NewSession:
        """A new session for ``key``; ``AuthenticationError`` if the key is unknown or revoked."""
        principal = self.keys.lookup(key.strip())
        token = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(24)
        created = self.now()
        expires = created + self.ttl
        with self.engine.begin() as conn:
            # Expired sessions go on each sign-in, so the table holds only live ones.
            conn.execute(delete(sessions).where(sessions.c.expires_at < created))
            conn.execute(
                insert(sessions).values(
                    token_hash=sha256_hex(token),
                    key_id=principal.key_id,
                    csrf=csrf,
                    created_at=created,
                    expires_at=expires,
                )
            )
        return NewSession(token, Session(principal, csrf, expires))

    def get(self, token: str) -> Session:
        """The live session of ``token``; ``AuthenticationError`` when there is none."""
        digest = sha256_hex(token)
        hit = self._cache.get(digest)
        if hit is not None and hit.expires_at > self.now():
            return hit
        with self.engine.connect() as conn:
            row = conn.execute(select(sessions).where(sessions.c.token_hash == digest)).first()
        if row is None or row.ended_at is not None:
            raise AuthenticationError("not signed in")
        expires = _aware(row.expires_at)
        if expires <= self.now():
            raise AuthenticationError("the session has expired: sign in again")
        record = self.keys.get(row.key_id)
        if not record.active:
            raise AuthenticationError(f"API key {record.id} was revoked")
        session = Session(record.principal(), row.csrf, expires)
        self._cache.put(digest, session)
        return session

    def sign_out(self, token: str) -> None:
        digest = sha256_hex(token)
        with self.engine.begin() as conn:
            conn.execute(
                update(sessions)
                .where(sessions.c.token_hash == digest, sessions.c.ended_at.is_(None))
                .values(ended_at=self.now())
            )
        self._cache.discard(digest)


def check_csrf(session: Session, sent: str | None) -> None:
    """``PermissionDenied`` unless ``sent`` is the session's CSRF token."""
    if not sent or not hmac.compare_digest(sent.encode(), session.csrf.encode()):
        raise PermissionDenied("missing or wrong CSRF token: reload the page and try again")
