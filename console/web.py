"""The console sub-application: templates, static files, guards and error pages.

Mounted at ``/console`` by the app factory. Pages live in ``pages_*`` modules, each a router
built over ``ConsoleServices``; this module gives them what they share: rendering, the session
authenticator, role guards (``kernel.auth.requires``, the API's own check) and CSRF.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from console.money import MoneyFormat
from console.services import ConsoleServices
from console.sessions import COOKIE, CSRF_FIELD, CSRF_HEADER, Session, check_csrf
from kernel.auth import Authenticate, requires
from kernel.errors import ApiError, AuthenticationError, PermissionDenied
from kernel.principal import Principal, Role

HERE = Path(str(resources.files("console")))
SESSION_STATE = "console_session"

# (path, label, roles that see it; empty: everyone signed in)
NAV: tuple[tuple[str, str, tuple[Role, ...]], ...] = (
    ("/console/ask", "Ask", ()),
    ("/console/usage", "Usage & cost", ()),
    ("/console/review", "Review", (Role.REVIEWER,)),
    ("/console/admin", "Budgets & keys", ()),
    ("/console/audit", "Audit", ()),
    ("/console/ingest", "Documents", (Role.DOC_OWNER,)),
    ("/console/models", "Models & routes", ()),
    ("/console/evals", "Evals", (Role.EVALUATOR,)),
)


def allowed(who: Principal, roles: tuple[Role, ...]) -> bool:
    """The rule of ``kernel.auth.requires``: an admin always; ``()`` admins only for the nav
    entries marked so below; otherwise one of ``roles``."""
    return who.role == Role.ADMIN or who.role in roles


def nav_for(who: Principal) -> list[tuple[str, str]]:
    everyone = {"/console/ask", "/console/usage"}
    return [(p, label) for p, label, roles in NAV if p in everyone or allowed(who, roles)]


def session_auth(services: ConsoleServices) -> Authenticate:
    """The console's ``Authenticate``: the session cookie -> the key's principal."""

    async def authenticate(request: Request) -> Principal:
        known = getattr(request.state, SESSION_STATE, None)
        if isinstance(known, Session):
            return known.principal
        token = request.cookies.get(COOKIE)
        if not token:
            raise AuthenticationError("not signed in")
        session = await services.run(services.sessions.get, token)
        setattr(request.state, SESSION_STATE, session)
        return session.principal

    return authenticate


Guard = Callable[[Request], Awaitable[Principal]]


def guard(auth: Authenticate, *roles: Role, change: bool = False) -> Guard:
    """Authenticate, check the role as the API does, and for a change its CSRF token."""
    check = requires(auth, *roles)

    async def dependency(request: Request) -> Principal:
        who = await check(request)
        if change:
            sent = request.headers.get(CSRF_HEADER)
            if sent is None:
                form = await request.form()
                value = form.get(CSRF_FIELD)
                sent = value if isinstance(value, str) else None
            check_csrf(getattr(request.state, SESSION_STATE), sent)
        return who

    return dependency


@dataclass
class Renderer:
    templates: Jinja2Templates

    def page(
        self, request: Request, name: str, status_code: int = 200, **context: Any
    ) -> HTMLResponse:
        session = getattr(request.state, SESSION_STATE, None)
        who = session.principal if isinstance(session, Session) else None
        base = {
            "who": who,
            "csrf": session.csrf if isinstance(session, Session) else "",
            "nav": nav_for(who) if who else [],
            "path": request.url.path,
        }
        return self.templates.TemplateResponse(
            request, name, {**base, **context}, status_code=status_code
        )


def renderer(money: MoneyFormat | None = None) -> Renderer:
    money = money or MoneyFormat()
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.filters["money"] = money
    templates.env.globals["money_note"] = money.note
    templates.env.filters["pct"] = lambda v: f"{100 * float(v):.1f}%"
    templates.env.filters["num"] = lambda v: f"{int(v):,}"
    return templates_renderer(templates)


def templates_renderer(templates: Jinja2Templates) -> Renderer:
    return Renderer(templates)


def install_error_pages(app: FastAPI, render: Renderer) -> None:
    async def unauthenticated(request: Request, exc: Exception) -> Response:
        if request.method == "GET" and "hx-request" not in request.headers:
            return RedirectResponse("/console/sign-in", status_code=303)
        return render.page(request, "error.html", 401, title="Sign in", error=str(exc))

    async def forbidden(request: Request, exc: Exception) -> Response:
        return render.page(request, "403.html", 403, title="Not allowed", error=str(exc))

    async def failed(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return render.page(request, "error.html", exc.status, title="Error", error=exc.message)

    app.add_exception_handler(AuthenticationError, unauthenticated)
    app.add_exception_handler(PermissionDenied, forbidden)
    app.add_exception_handler(ApiError, failed)
