"""Audit (chain status, one record, replay) and models and routes (tiers as they run now, breaker
states, the routing version, prompt versions with activate and rollback): admins."""

# No ``from __future__ import annotations``: FastAPI reads the routes' annotations.

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from console.services import ConsoleServices, configured
from console.web import Renderer, guard
from governance.admin_audit import record_change
from governance.audit_replay import recorded_request, response_text
from governance.audit_verify import verify
from kernel.auth import Authenticate
from kernel.errors import ApiError
from kernel.principal import Principal, Role


def ops_pages(services: ConsoleServices, auth: Authenticate, render: Renderer) -> APIRouter:
    from console.pages_data import data_pages

    router = APIRouter()
    parts = services.parts
    Admin = Annotated[Principal, Depends(guard(auth, Role.ADMIN))]
    Changer = Annotated[Principal, Depends(guard(auth, Role.ADMIN, change=True))]

    async def audit_page(
        request: Request, check: bool, record: str, replay: dict[str, Any] | None = None
    ) -> Response:
        report = await services.run(verify, parts.audit) if check else None
        entry, error = None, ""
        if record.strip():
            try:
                entry = await services.run(parts.audit.get, record.strip())
            except ApiError as exc:
                error = exc.message
        routes = list(parts.catalogue.config.routes) if parts.catalogue else []
        return render.page(
            request,
            "audit.html",
            title="Audit",
            report=report,
            entry=entry,
            record=record,
            error=error,
            routes=routes,
            replay=replay,
            recorded_text=response_text((entry.record.get("response") or {}).get("content"))
            if entry
            else "",
        )

    @router.get("/audit")
    async def audit(
        request: Request,
        _: Admin,
        check: bool = False,
        record: Annotated[str, Query(max_length=128)] = "",
    ) -> Response:
        return await audit_page(request, check, record)

    @router.post("/audit/{ident}/replay")
    async def replay(
        request: Request,
        ident: str,
        who: Changer,
        route: Annotated[str, Form(min_length=1, max_length=200)],
    ) -> Response:
        """Re-send the recorded (redacted) request through ``route``, as the admin, through
        the gateway (governed, billed and audited like any call)."""
        gateway = configured(services.gateway, "the gateway")
        entry = await services.run(parts.audit.get, ident)
        model_request = recorded_request(entry.record, route)
        result = await gateway.invoke(model_request, principal=who, route=route, source="console")
        replayed = {
            "route": result.route,
            "model": result.response.model_alias,
            "cost_nano_usd": result.cost_nano_usd,
            "text": result.response.text,
            "request_id": result.request_id,
        }
        return await audit_page(request, False, str(entry.seq), replayed)

    def routes_now() -> list[dict[str, Any]]:
        catalogue = parts.catalogue
        if catalogue is None:
            return []
        out = []
        for name in catalogue.config.routes:
            try:
                tiers = [
                    {"index": t.index, "models": list(t.aliases), "skipped": list(t.skipped)}
                    for t in catalogue.route_tiers(name)
                ]
                error = ""
            except ApiError as exc:
                tiers, error = [], exc.message
            out.append({"name": name, "tiers": tiers, "error": error})
        return out

    @router.get("/models")
    async def models(request: Request, _: Admin) -> Response:
        catalogue = parts.catalogue
        prompts = await services.run(parts.prompts.list_prompts)
        return render.page(
            request,
            "models.html",
            title="Models & routes",
            routes=await services.run(routes_now),
            breakers=catalogue.breaker_states() if catalogue else {},
            routing_version=catalogue.routing_version if catalogue else "",
            prompts=prompts,
        )

    @router.post("/models/prompts/{prompt_id}/activate")
    async def activate(
        prompt_id: str, who: Changer, version: Annotated[str, Form(min_length=1, max_length=12)]
    ) -> Response:
        by = who.key_id or who.user_id
        pv = await services.run(parts.prompts.activate, f"{prompt_id}@{version}", by=by)
        await services.run(record_change, parts.audit, who, "prompt.activate", pv.ref)
        return RedirectResponse("/console/models", status_code=303)

    @router.post("/models/prompts/{prompt_id}/rollback")
    async def rollback(prompt_id: str, who: Changer) -> Response:
        pv = await services.run(parts.prompts.rollback, prompt_id, by=who.key_id or who.user_id)
        await services.run(record_change, parts.audit, who, "prompt.rollback", pv.ref)
        return RedirectResponse("/console/models", status_code=303)

    router.include_router(data_pages(services, auth, render))
    return router
