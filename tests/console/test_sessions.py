"""Sign-in exchanges a key for a session cookie (HttpOnly, SameSite=Strict); every change
needs the session's CSRF token; sign-out, expiry and a revoked key end the session."""

from __future__ import annotations

from datetime import timedelta

from console.sessions import COOKIE, SessionStore
from tests.console.rig import ConsoleRig, client, sign_in


async def test_sign_in_sets_a_strict_http_only_cookie_and_never_the_key(rig: ConsoleRig) -> None:
    async with client(rig.app) as http:
        response = await http.post("/console/sign-in", data={"key": rig.keys["employee"]})
        assert response.status_code == 303
        assert response.headers["location"] == "/console/ask"
        cookie = response.headers["set-cookie"]
        assert cookie.startswith(f"{COOKIE}=")
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/console" in cookie
        assert rig.keys["employee"] not in cookie
        page = await http.get("/console/ask")
        assert page.status_code == 200 and "employee (employee)" in page.text


async def test_a_bad_key_is_refused_and_pages_send_you_to_sign_in(rig: ConsoleRig) -> None:
    async with client(rig.app) as http:
        response = await http.post("/console/sign-in", data={"key": "lg_00000000_" + "x" * 43})
        assert response.status_code == 401 and "invalid API key" in response.text
        page = await http.get("/console/usage")
        assert page.status_code == 303 and page.headers["location"] == "/console/sign-in"


async def test_a_change_without_the_csrf_token_is_refused(rig: ConsoleRig) -> None:
    async with client(rig.app) as http:
        csrf = await sign_in(http, rig.keys["admin"])
        body = {"scope": "project", "name": "csrf-test", "period": "month", "hard_usd": "5"}
        refused = await http.post("/console/admin/budgets", data=body)
        assert refused.status_code == 403 and "CSRF" in refused.text
        wrong = await http.post("/console/admin/budgets", data={**body, "csrf": "nope"})
        assert wrong.status_code == 403
        names = [b.name for b in rig.graph.governance_parts.budgets.all()]
        assert "csrf-test" not in names
        done = await http.post("/console/admin/budgets", data={**body, "csrf": csrf})
        assert done.status_code == 303
        assert "csrf-test" in [b.name for b in rig.graph.governance_parts.budgets.all()]
        rig.graph.governance_parts.budgets.remove("project", "csrf-test")


async def test_sign_out_ends_the_session_on_the_server(rig: ConsoleRig) -> None:
    async with client(rig.app) as http:
        csrf = await sign_in(http, rig.keys["employee"])
        token = http.cookies[COOKIE]
        out = await http.post("/console/sign-out", data={"csrf": csrf})
        assert out.status_code == 303
    async with client(rig.app) as replay:  # the old cookie, replayed, no longer works
        replay.cookies.set(COOKIE, token)
        page = await replay.get("/console/ask")
        assert page.status_code == 303


def test_sessions_expire_and_die_with_their_key(rig: ConsoleRig) -> None:
    keys = rig.graph.governance_parts.keys
    now = [rig.graph.governance_parts.keys.get(keys.list_keys()[0].id).created_at]
    store = SessionStore(
        rig.graph.engine, keys, ttl=timedelta(hours=1), cache_ttl_s=0, now=lambda: now[0]
    )
    new = store.sign_in(keys.create(user="temp").key)
    assert store.get(new.token).principal.user_id == "temp"
    now[0] += timedelta(hours=2)
    try:
        store.get(new.token)
        raise AssertionError("an expired session was accepted")
    except Exception as exc:
        assert "expired" in str(exc)
    now[0] -= timedelta(hours=2)
    keys.revoke(new.session.principal.key_id)
    try:
        store.get(new.token)
        raise AssertionError("a revoked key's session was accepted")
    except Exception as exc:
        assert "revoked" in str(exc)
