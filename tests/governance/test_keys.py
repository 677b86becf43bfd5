"""API keys: stored hashed, shown once, looked up from either header, revoked for good."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from governance.authn import api_key_auth
from governance.keys import KEY_PATTERN, KeyStore, hash_key
from governance.tables import api_keys
from kernel.auth import requires
from kernel.errors import AuthenticationError, InvalidRequest, NotFound
from kernel.principal import Principal, Role
from loregate.errors_http import install_error_handlers
from testkit.clock import ManualClock


def test_create_returns_the_key_once_and_stores_only_its_hash(engine: Engine) -> None:
    store = KeyStore(engine)
    new = store.create(
        user="alice",
        department="sales",
        project="crm",
        role="doc_owner",
        groups=["legal", " eu ", ""],
        routes=["default"],
        models=["claude-haiku-4-5"],
    )
    assert KEY_PATTERN.match(new.key)
    assert new.key.startswith(new.record.id + "_")
    with engine.connect() as conn:
        row = conn.execute(select(api_keys)).one()
    stored = " ".join(str(v) for v in row)
    assert new.key not in stored and new.key[12:] not in stored
    assert row.key_hash == hash_key(new.key)
    assert row.id == new.record.id and len(row.id) == 11
    principal = store.lookup(new.key)
    assert principal == Principal(
        user_id="alice",
        department="sales",
        project="crm",
        groups=("legal", "eu"),
        role=Role.DOC_OWNER,
        allowed_routes=("default",),
        allowed_models=("claude-haiku-4-5",),
        key_id=new.record.id,
    )


def test_key_never_reaches_the_sqlite_file(sqlite_engine: Engine, tmp_path: Path) -> None:
    new = KeyStore(sqlite_engine).create(user="bob", role="admin")
    sqlite_engine.dispose()
    blob = b"".join(p.read_bytes() for p in tmp_path.glob("gov.db*"))
    assert new.key.encode() not in blob
    assert new.record.id.encode() in blob


def test_list_shows_ids_and_revoke_is_final(engine: Engine) -> None:
    store = KeyStore(engine)
    a = store.create(user="alice")
    b = store.create(user="bob", role=Role.ADMIN)
    assert [k.id for k in store.list_keys()] == [a.record.id, b.record.id]
    assert store.count_active_admins() == 1
    store.lookup(b.key)  # cached now
    revoked = store.revoke(b.record.id)
    assert revoked.revoked_at is not None
    with pytest.raises(AuthenticationError, match="revoked"):
        store.lookup(b.key)
    assert [k.id for k in store.list_keys()] == [a.record.id]
    assert len(store.list_keys(include_revoked=True)) == 2
    assert store.count_active_admins() == 0
    store.revoke(b.key)  # the whole key works too, and twice is a no-op
    with pytest.raises(NotFound):
        store.revoke("lg_00000000")


def test_revocation_elsewhere_shows_after_the_cache_ttl(sqlite_engine: Engine) -> None:
    clock = ManualClock()
    mine = KeyStore(sqlite_engine, cache_ttl_s=5, monotonic=clock.monotonic)
    other = KeyStore(sqlite_engine)
    new = mine.create(user="carol")
    mine.lookup(new.key)
    other.revoke(new.record.id)
    assert mine.lookup(new.key).user_id == "carol"  # still cached
    clock.advance(6)
    with pytest.raises(AuthenticationError):
        mine.lookup(new.key)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"user": ""}, "user is required"),
        ({"user": "a", "role": "boss"}, "unknown role 'boss'"),
        ({"user": "a", "groups": ["x,y"]}, "bad group"),
        ({"user": "a", "department": "d" * 200}, "bad department"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_stored(
    sqlite_engine: Engine, kwargs: dict[str, object], message: str
) -> None:
    store = KeyStore(sqlite_engine)
    with pytest.raises(InvalidRequest, match=message):
        store.create(**kwargs)  # type: ignore[arg-type]
    assert store.list_keys(include_revoked=True) == []


@pytest.mark.parametrize("key", ["", "nope", "lg_00000000_" + "x" * 43, "sk-ant-123"])
def test_unknown_or_malformed_keys_are_401(sqlite_engine: Engine, key: str) -> None:
    with pytest.raises(AuthenticationError):
        KeyStore(sqlite_engine).lookup(key)


def _app(store: KeyStore) -> TestClient:
    app = FastAPI()
    install_error_handlers(app, [])
    auth = api_key_auth(store)
    admin = requires(auth, Role.ADMIN)

    @app.get("/me")
    async def me(p: Principal = Depends(auth)) -> dict[str, str]:  # noqa: B008
        return {"user": p.user_id, "key": p.key_id}

    @app.get("/admin")
    async def admin_only(p: Principal = Depends(admin)) -> dict[str, str]:  # noqa: B008
        return {"user": p.user_id}

    return TestClient(app)


def test_authenticator_reads_both_headers_and_answers_401_and_403(sqlite_engine: Engine) -> None:
    store = KeyStore(sqlite_engine)
    emp = store.create(user="alice")
    adm = store.create(user="root", role="admin")
    client = _app(store)
    assert client.get("/me", headers={"x-api-key": emp.key}).json()["user"] == "alice"
    r = client.get("/me", headers={"Authorization": f"Bearer {emp.key}"})
    assert r.json() == {"user": "alice", "key": emp.record.id}
    missing = client.get("/me")
    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "unauthenticated"
    assert "x-api-key" in missing.json()["error"]["message"]
    assert client.get("/me", headers={"x-api-key": "lg_bad"}).status_code == 401
    assert client.get("/me", headers={"Authorization": "Basic abc"}).status_code == 401
    forbidden = client.get("/admin", headers={"x-api-key": emp.key})
    assert forbidden.status_code == 403
    assert forbidden.json()["error"]["code"] == "forbidden"
    assert client.get("/admin", headers={"x-api-key": adm.key}).json() == {"user": "root"}
    store.revoke(emp.record.id)
    assert client.get("/me", headers={"x-api-key": emp.key}).status_code == 401


async def test_a_request_authenticated_once_is_not_looked_up_again(sqlite_engine: Engine) -> None:
    """The principal is kept in the request's state (where ``request.state`` finds it): a
    second check of the same request (a dependency, then the endpoint) reads it back."""
    from starlette.requests import Request

    store = KeyStore(sqlite_engine)
    emp = store.create(user="alice")
    authenticate = api_key_auth(store)
    scope = {"type": "http", "method": "POST", "headers": [(b"x-api-key", emp.key.encode())]}
    request = Request(scope)
    first = await authenticate(request)
    store.revoke(emp.record.id)
    store.cached = lambda key: None  # type: ignore[method-assign]  # no lookup may happen now
    assert await authenticate(request) is first
    assert request.state.loregate_principal is first
