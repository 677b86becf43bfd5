"""Pages and actions by role: the console's checks are the API's (``kernel.auth.requires``),
and a page outside a key's role is a 403 page, per role."""

from __future__ import annotations

import pytest

from tests.console.rig import ConsoleRig, client, sign_in

PAGES = {
    "/console/ask": {"employee", "reviewer", "lead", "admin", "owner", "evaluator"},
    "/console/usage": {"employee", "reviewer", "lead", "admin", "owner", "evaluator"},
    "/console/review": {"reviewer", "admin"},
    "/console/admin": {"admin"},
    "/console/audit": {"admin"},
    "/console/models": {"admin"},
    "/console/ingest": {"owner", "admin"},
    "/console/evals": {"evaluator", "admin"},
}
ROLES = ("employee", "reviewer", "lead", "admin", "owner", "evaluator")


@pytest.mark.parametrize("role", ROLES)
async def test_each_page_opens_for_its_roles_only(rig: ConsoleRig, role: str) -> None:
    async with client(rig.app) as http:
        await sign_in(http, rig.keys[role])
        for path, allowed in PAGES.items():
            page = await http.get(path)
            if role in allowed:
                assert page.status_code == 200, (role, path, page.text[:300])
                assert f'href="{path}"' in page.text  # and the navigation offers it
            else:
                assert page.status_code == 403, (role, path)
                assert "may not open this page" in page.text
                assert f'href="{path}"' not in page.text


@pytest.mark.parametrize("role", ["employee", "reviewer", "lead"])
async def test_admin_actions_are_refused_to_other_roles(rig: ConsoleRig, role: str) -> None:
    async with client(rig.app) as http:
        csrf = await sign_in(http, rig.keys[role])
        budget = {"scope": "user", "name": role, "period": "day", "hard_usd": "0", "csrf": csrf}
        assert (await http.post("/console/admin/budgets", data=budget)).status_code == 403
        key = {"user": "mallory", "role": "admin", "csrf": csrf}
        assert (await http.post("/console/admin/keys", data=key)).status_code == 403
        assert (await http.get("/console/usage/export/billing")).status_code == 403
    assert not [b for b in rig.graph.governance_parts.budgets.all() if b.name == role]
    users = [k.user_id for k in rig.graph.governance_parts.keys.list_keys()]
    assert "mallory" not in users


async def test_usage_scope_follows_the_role(rig: ConsoleRig) -> None:
    async with client(rig.app) as http:
        await sign_in(http, rig.keys["employee"])
        own = await http.get("/console/usage")
        assert "Scope: <strong>user employee</strong>" in own.text
        wider = await http.get("/console/usage", params={"user": "admin"})
        assert wider.status_code == 403
    async with client(rig.app) as http:
        await sign_in(http, rig.keys["lead"])
        dept = await http.get("/console/usage")
        assert "Scope: <strong>department legal</strong>" in dept.text
        other = await http.get("/console/usage", params={"department": "sales"})
        assert other.status_code == 403
