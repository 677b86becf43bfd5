"""Sign-in, sign-out and the console's front door."""

# No ``from __future__ import annotations``: FastAPI reads the routes' annotations.

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from console.services import ConsoleServices
from console.sessions import COOKIE
from console.web import Renderer, guard
from kernel.auth import Authenticate
from kernel.errors import AuthenticationError
from kernel.principal import Principal


def session_pages(services: ConsoleServices, auth: Authenticate, render: Renderer) -> APIRouter:
    router = APIRouter()
    Changer = Annotated[Principal, Depends(guard(auth, change=True))]

    @router.get("/", include_in_schema=False)
    async def front() -> Response:
        return RedirectResponse("/console/ask", status_code=303)

    @router.get("/sign-in")
    async def sign_in_form(request: Request) -> Response:
        return render.page(request, "sign_in.html", title="Sign in")

    @router.post("/sign-in")
    async def sign_in(request: Request, key: Annotated[str, Form(max_length=200)]) -> Response:
        try:
            new = await services.run(services.sessions.sign_in, key)
        except AuthenticationError as exc:
            return render.page(request, "sign_in.html", 401, title="Sign in", error=exc.message)
        response = RedirectResponse("/console/ask", status_code=303)
        response.set_cookie(
            COOKIE,
            new.token,
            max_age=int(services.sessions.ttl.total_seconds()),
            path="/console",
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
        return response

    @router.post("/sign-out")
    async def sign_out(request: Request, _: Changer) -> Response:
        token = request.cookies.get(COOKIE, "")
        await services.run(services.sessions.sign_out, token)
        response = RedirectResponse("/console/sign-in", status_code=303)
        response.delete_cookie(COOKIE, path="/console")
        return response

    return router
