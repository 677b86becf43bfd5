"""Usage and cost: by department, project, user, model, route and day, from the rollup;
export buttons stream the API's own billing and call exports."""

# No ``from __future__ import annotations``: FastAPI reads the routes' annotations.

from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse

from console.services import ConsoleServices, configured
from console.usage import report, scope_for
from console.web import Renderer, guard
from governance import exports
from governance.billing.periods import Month
from kernel.auth import Authenticate
from kernel.errors import PermissionDenied
from kernel.principal import Principal, Role

MEDIA = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson"}


def usage_pages(services: ConsoleServices, auth: Authenticate, render: Renderer) -> APIRouter:
    router = APIRouter()
    Viewer = Annotated[Principal, Depends(guard(auth))]
    Admin = Annotated[Principal, Depends(guard(auth, Role.ADMIN))]

    @router.get("/usage")
    async def usage(
        request: Request,
        who: Viewer,
        group_by: Annotated[str, Query(pattern="^(department|project|user|model|route|day)$")] = "",
        start: Annotated[str | None, Query(alias="from")] = None,
        end: Annotated[str | None, Query(alias="to")] = None,
        department: str = "",
        user: str = "",
        project: str = "",
    ) -> Response:
        scope = scope_for(who, department.strip(), user.strip(), project.strip())
        group_by = group_by or scope.groups[0]
        # Only read here: folding the ledger in is the background refresher's job, so a page
        # load never takes a write lock the ledger's writer waits for.
        behind = await services.run(services.rollup.backlog)
        data = await services.run(report, services.dashboard_engine, scope, group_by, start, end)
        budgets = await services.run(
            services.parts.budget_states, None if who.role == Role.ADMIN else who
        )
        peak = max((r["cost_nano_usd"] for r in data.daily), default=0)
        top = max((r["cost_nano_usd"] for r in data.rows), default=0)
        return render.page(
            request,
            "usage.html",
            title="Usage & cost",
            data=data,
            scope=scope,
            groups=scope.groups,
            behind=behind,
            budgets=budgets,
            peak=peak,
            top=top,
            query=request.url.query,
        )

    @router.get("/usage/savings")
    async def savings(request: Request, who: Viewer, month: str = "") -> Response:
        """What caching and the cascade saved, per department: an admin sees the company and
        every department, a department lead their own. Read from the month's ledger rows (not
        the rollup), so it has a page of its own and the usage page stays fast."""
        if who.role not in (Role.ADMIN, Role.DEPT_LEAD):
            raise PermissionDenied("savings are shown to admins and department leads")
        billing = configured(services.billing, "billing")
        chosen = Month.parse(month) if month else Month.of(datetime.now(UTC))
        found = await services.run(billing.savings, chosen, "department")
        subjects = found["subjects"]
        if who.role == Role.DEPT_LEAD:
            subjects = {k: v for k, v in subjects.items() if k == who.department}
        rows = [("company", found["company"])] if who.role == Role.ADMIN else []
        rows += sorted(subjects.items())
        return render.page(
            request,
            "savings.html",
            title="Savings",
            month=str(chosen),
            rows=rows,
            reference=found["company"]["always_reference"]["model"],
        )

    @router.get("/usage/export/billing")
    async def export_billing(
        _: Admin,
        start: Annotated[str | None, Query(alias="from")] = None,
        end: Annotated[str | None, Query(alias="to")] = None,
        group_by: Annotated[
            str, Query(pattern="^(department|project|user|model|route)$")
        ] = "department",
        fmt: Annotated[str, Query(alias="format", pattern="^(csv|jsonl)$")] = "csv",
    ) -> Response:
        lo, hi = exports.period(start, end)
        lines = await services.run(exports.billing, services.dashboard_engine, lo, hi, group_by, {})
        money = partial(services.parts.in_currency, when=hi - timedelta(microseconds=1))
        body = exports.render(
            (line.as_dict(group_by, money) for line in lines),
            fmt,
            exports.billing_columns(group_by, currency=True),
        )
        return StreamingResponse(
            iter(list(body)),
            media_type=MEDIA[fmt],
            headers={"content-disposition": f'attachment; filename="billing.{fmt}"'},
        )

    @router.get("/usage/export/calls")
    async def export_calls(
        _: Admin,
        start: Annotated[str | None, Query(alias="from")] = None,
        end: Annotated[str | None, Query(alias="to")] = None,
        fmt: Annotated[str, Query(alias="format", pattern="^(csv|jsonl)$")] = "csv",
    ) -> Response:
        lo, hi = exports.period(start, end)

        def rows() -> list[str]:
            found = exports.calls(services.dashboard_engine, lo, hi, attempts=False, filters={})
            return list(exports.render(found, fmt, [*exports.CALL_COLUMNS, "cost_usd"]))

        return StreamingResponse(
            iter(await services.run(rows)),
            media_type=MEDIA[fmt],
            headers={"content-disposition": f'attachment; filename="calls.{fmt}"'},
        )

    return router
