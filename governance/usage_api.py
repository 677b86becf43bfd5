"""Usage, exports and metrics endpoints.

GET /v1/usage                  the caller's own usage and budgets (admins: anyone's, by filter)
GET /admin/exports/billing     ?from&to&group_by=department|project|user|model|route&format=
GET /admin/exports/calls       ?from&to&format=csv|jsonl&attempts=&department&project&user&route
GET /metrics                   Prometheus exposition (no key: scrape it from your network)
"""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from typing import Any

from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import StreamingResponse

from governance import exports
from governance.metrics import render
from governance.parts import GovernanceParts
from kernel.auth import Authenticate, requires
from kernel.errors import PermissionDenied
from kernel.principal import Principal, Role

MEDIA = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson"}


def _filters(**values: str | None) -> dict[str, str]:
    return {k: v for k, v in values.items() if v}


def usage_router(parts: GovernanceParts, auth: Authenticate) -> APIRouter:
    admin = requires(auth, Role.ADMIN)
    router = APIRouter(tags=["usage"])

    @router.get("/v1/usage", summary="Usage and budgets: your own, or (admins) anyone's")
    def usage(
        start: str | None = Query(None, alias="from"),
        end: str | None = Query(None, alias="to"),
        department: str | None = None,
        project: str | None = None,
        user: str | None = None,
        who: Principal = Depends(auth),  # noqa: B008
    ) -> dict[str, Any]:
        lo, hi = exports.period(start, end)
        if who.role == Role.ADMIN:
            filters = _filters(department=department, project=project, user=user)
            states = parts.budget_states()
        else:
            asked = {"department": department, "project": project, "user": user}
            if any(
                v and v != own
                for v, own in (
                    (asked["department"], who.department),
                    (asked["project"], who.project),
                    (asked["user"], who.user_id),
                )
            ):
                raise PermissionDenied("only admins may see other callers' usage")
            filters = {"user": who.user_id}
            states = parts.budget_states(who)
        summary = exports.summary(parts.engine, lo, hi, filters)
        return {
            "scope": filters or {"all": "true"},
            **summary,
            "cost_in_currency": parts.in_currency(summary["cost_nano_usd"], hi),
            "budgets": [s.as_dict() for s in states],
        }

    @router.get("/admin/exports/billing", tags=["admin"], summary="Billing export")
    def billing(
        start: str | None = Query(None, alias="from"),
        end: str | None = Query(None, alias="to"),
        group_by: str = Query("department", pattern="^(department|project|user|model|route)$"),
        fmt: str = Query("csv", alias="format", pattern="^(csv|jsonl)$"),
        department: str | None = None,
        project: str | None = None,
        _: Principal = Depends(admin),  # noqa: B008
    ) -> StreamingResponse:
        lo, hi = exports.period(start, end)
        lines = exports.billing(
            parts.engine, lo, hi, group_by, _filters(department=department, project=project)
        )
        last = hi - timedelta(microseconds=1)
        body = exports.render(
            (line.as_dict(group_by, partial(parts.in_currency, when=last)) for line in lines),
            fmt,
            exports.billing_columns(group_by, currency=True),
        )
        return StreamingResponse(
            body,
            media_type=MEDIA[fmt],
            headers={"content-disposition": f'attachment; filename="billing.{fmt}"'},
        )

    @router.get("/admin/exports/calls", tags=["admin"], summary="The invocation log")
    def calls(
        start: str | None = Query(None, alias="from"),
        end: str | None = Query(None, alias="to"),
        fmt: str = Query("jsonl", alias="format", pattern="^(csv|jsonl)$"),
        attempts: bool = False,
        department: str | None = None,
        project: str | None = None,
        user: str | None = None,
        route: str | None = None,
        _: Principal = Depends(admin),  # noqa: B008
    ) -> StreamingResponse:
        lo, hi = exports.period(start, end)
        rows = exports.calls(
            parts.engine,
            lo,
            hi,
            attempts=attempts,
            filters=_filters(department=department, project=project, user=user, route=route),
        )
        body = exports.render(rows, fmt, [*exports.CALL_COLUMNS, "cost_usd"])
        return StreamingResponse(
            body,
            media_type=MEDIA[fmt],
            headers={"content-disposition": f'attachment; filename="calls.{fmt}"'},
        )

    @router.get("/metrics", tags=["health"], summary="Prometheus metrics")
    def metrics() -> Response:
        if parts.catalogue is not None:
            parts.metrics.record_circuits(parts.catalogue.breaker_states())
        data, content_type = render(parts.metrics)
        return Response(content=data, media_type=content_type)

    return router
