"""Budgets, rate limits and keys (admins): create, change, revoke, through the same stores
the admin API writes; each change recorded on the audit chain (``governance.admin_audit``)."""

# No ``from __future__ import annotations``: FastAPI reads the routes' annotations.

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from console.services import ConsoleServices
from console.web import Renderer, guard
from governance.admin_audit import recent_changes, record_change
from kernel.auth import Authenticate
from kernel.principal import Principal, Role

Name = Annotated[str, Form(min_length=1, max_length=128)]
Text = Annotated[str, Form(max_length=500)]


def _list(text: str) -> list[str]:
    return [v.strip() for v in text.split(",") if v.strip()]


def admin_pages(services: ConsoleServices, auth: Authenticate, render: Renderer) -> APIRouter:
    router = APIRouter()
    parts = services.parts
    Admin = Annotated[Principal, Depends(guard(auth, Role.ADMIN))]
    Changer = Annotated[Principal, Depends(guard(auth, Role.ADMIN, change=True))]

    async def page(request: Request, status: int = 200, **extra: object) -> Response:
        budgets = await services.run(parts.budget_states)
        limits = await services.run(lambda: list(parts.rules.all().values()))
        keys = await services.run(parts.keys.list_keys, include_revoked=True)
        changes = await services.run(recent_changes, parts.audit)
        return render.page(
            request,
            "admin.html",
            status,
            title="Budgets, limits & keys",
            budgets=budgets,
            limits=limits,
            keys=keys,
            changes=changes,
            roles=[r.value for r in Role],
            **extra,
        )

    @router.get("/admin")
    async def admin(request: Request, _: Admin) -> Response:
        return await page(request)

    async def audited(who: Principal, action: str, target: str, **detail: object) -> None:
        await services.run(record_change, parts.audit, who, action, target, **detail)

    @router.post("/admin/budgets")
    async def set_budget(
        who: Changer,
        scope: Annotated[str, Form(pattern="^(department|project|user)$")],
        name: Name,
        period: Annotated[str, Form(pattern="^(day|month)$")],
        hard_usd: Annotated[str, Form(min_length=1, max_length=32)],
        soft_usd: Annotated[str, Form(max_length=32)] = "",
    ) -> Response:
        await services.run(
            parts.budgets.set,
            scope,
            name,
            period=period,
            hard_usd=hard_usd,
            soft_usd=soft_usd or None,
        )
        await audited(
            who,
            "budget.set",
            f"{scope}:{name}",
            period=period,
            hard_usd=hard_usd,
            soft_usd=soft_usd,
        )
        return RedirectResponse("/console/admin", status_code=303)

    @router.post("/admin/budgets/{scope}/{name}/delete")
    async def remove_budget(scope: str, name: str, who: Changer) -> Response:
        await services.run(parts.budgets.remove, scope, name)
        await audited(who, "budget.remove", f"{scope}:{name}")
        return RedirectResponse("/console/admin", status_code=303)

    @router.post("/admin/limits")
    async def set_limit(
        who: Changer,
        scope: Name,
        subject: Name,
        rpm: Annotated[int | None, Form(gt=0)] = None,
        tpm: Annotated[int | None, Form(gt=0)] = None,
    ) -> Response:
        await services.run(parts.rules.set, scope, subject, rpm=rpm, tpm=tpm)
        await audited(who, "limit.set", f"{scope}:{subject}", rpm=rpm, tpm=tpm)
        return RedirectResponse("/console/admin", status_code=303)

    @router.post("/admin/keys")
    async def create_key(
        request: Request,
        who: Changer,
        user: Name,
        role: Annotated[str, Form(max_length=16)] = Role.EMPLOYEE.value,
        department: Text = "",
        project: Text = "",
        groups: Text = "",
        description: Text = "",
    ) -> Response:
        new = await services.run(
            parts.keys.create,
            user=user,
            department=department,
            project=project,
            role=role,
            groups=_list(groups),
            description=description,
            created_by=who.key_id or who.user_id,
        )
        await audited(who, "key.create", new.record.id, user=user, role=role, department=department)
        return await page(request, 201, new_key=new.key, new_key_id=new.record.id)

    @router.post("/admin/keys/{key_id}/revoke")
    async def revoke_key(key_id: str, who: Changer) -> Response:
        await services.run(parts.keys.revoke, key_id)
        await audited(who, "key.revoke", key_id)
        return RedirectResponse("/console/admin", status_code=303)

    return router
