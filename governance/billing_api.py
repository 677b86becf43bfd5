"""Billing endpoints (admin role): invoices, closing a month, rates, FOCUS export, savings.

GET  /admin/billing/invoices                       ?month: every department's totals + company
GET  /admin/billing/invoices/{scope}/{subject}     ?month&format=json|csv|html: one invoice
                                                   (a closed month's stored bytes; the sha256
                                                   is in the X-Content-SHA256 header)
POST /admin/billing/close                          {"month": "YYYY-MM"}: freeze the month
GET  /admin/billing/rates                          every pinned rate
POST /admin/billing/rates                          {"currency","per_usd","effective_from","source"}
GET  /admin/billing/convert                        ?nano_usd&day[&currency]: a figure converted
GET  /admin/billing/savings                        ?month&scope: what caching and the cascade saved
GET  /admin/exports/focus                          ?month&format=csv|jsonl: FOCUS 1.2 dataset
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from governance.billing.money import format_money
from governance.billing.periods import Month
from governance.billing.rates import parse_day
from governance.billing.render import MEDIA
from governance.billing.service import Billing
from kernel.auth import Authenticate, requires
from kernel.principal import Principal, Role

MONTH = Query(pattern=r"^\d{4}-\d{2}$", description="YYYY-MM (UTC)")


class CloseMonth(BaseModel):
    model_config = ConfigDict(extra="forbid")

    month: str = Field(pattern=r"^\d{4}-\d{2}$")


class RateAdd(BaseModel):
    model_config = ConfigDict(extra="forbid")

    currency: str = Field(min_length=3, max_length=3)
    per_usd: str = Field(description="units of the currency one USD buys, e.g. '7.2'")
    effective_from: str = Field(description="YYYY-MM-DD")
    source: str = Field(min_length=1, max_length=256)


def billing_router(billing: Billing, auth: Authenticate) -> APIRouter:
    admin = requires(auth, Role.ADMIN)
    router = APIRouter(tags=["billing"])

    @router.get("/admin/billing/invoices", summary="Department totals and the company total")
    def company(month: str = MONTH, _: Principal = Depends(admin)) -> dict[str, Any]:  # noqa: B008
        return billing.company(Month.parse(month))

    @router.get("/admin/billing/invoices/{scope}/{subject}", summary="One invoice document")
    def invoice(
        scope: str = Path(pattern="^(department|project)$"),
        subject: str = Path(max_length=128),
        month: str = MONTH,
        fmt: str = Query("json", alias="format", pattern="^(json|csv|html)$"),
        _: Principal = Depends(admin),  # noqa: B008
    ) -> Response:
        doc = billing.document(Month.parse(month), scope, subject, fmt)
        return Response(
            doc.body,
            media_type=MEDIA[fmt],
            headers={
                "X-Content-SHA256": doc.sha256,
                "X-Invoice-Status": "closed" if doc.closed else "open",
            },
        )

    @router.post("/admin/billing/close", summary="Close a month (its invoices are frozen)")
    def close(body: CloseMonth, who: Principal = Depends(admin)) -> dict[str, Any]:  # noqa: B008
        return billing.close(Month.parse(body.month), by=who.key_id or who.user_id)

    @router.get("/admin/billing/rates", summary="Pinned exchange rates")
    def rates(_: Principal = Depends(admin)) -> dict[str, Any]:  # noqa: B008
        return {
            "currency": billing.currency,
            "rates": [r.as_dict() for r in billing.rates.history()],
        }

    @router.post("/admin/billing/rates", status_code=201, summary="Add a rate (forward only)")
    def add_rate(body: RateAdd, _: Principal = Depends(admin)) -> dict[str, str]:  # noqa: B008
        rate = billing.rates.add(body.currency, body.per_usd, body.effective_from, body.source)
        return rate.as_dict()

    @router.get("/admin/billing/convert", summary="A nano-USD figure in a currency on a day")
    def convert(
        nano_usd: int = Query(ge=0),
        day: str = Query(description="YYYY-MM-DD"),
        currency: str | None = None,
        _: Principal = Depends(admin),  # noqa: B008
    ) -> dict[str, Any]:
        money = billing.rates.convert(nano_usd, currency or billing.currency, parse_day(day, "day"))
        return {
            "nano_usd": nano_usd,
            "currency": money.currency,
            "amount": str(money.amount),
            "exact": str(money.exact),
            "display": format_money(money.amount, money.currency),
            "rate": money.rate.as_dict(),
        }

    @router.get("/admin/billing/savings", summary="What caching and the cascade saved")
    def savings(
        month: str = MONTH,
        scope: str = Query("department", pattern="^(department|project)$"),
        _: Principal = Depends(admin),  # noqa: B008
    ) -> dict[str, Any]:
        return billing.savings(Month.parse(month), scope)

    @router.get("/admin/exports/focus", tags=["admin"], summary="FOCUS 1.2 export of a month")
    def focus(
        month: str = MONTH,
        fmt: str = Query("csv", alias="format", pattern="^(csv|jsonl)$"),
        _: Principal = Depends(admin),  # noqa: B008
    ) -> Response:
        media = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson"}[fmt]
        return Response(billing.focus(Month.parse(month), fmt), media_type=media)

    return router
