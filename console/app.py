"""The console as an app of its own, mounted at ``/console`` by the app factory."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from console.money import MoneyFormat
from console.pages_admin import admin_pages
from console.pages_ask import ask_pages
from console.pages_ops import ops_pages
from console.pages_review import review_pages
from console.pages_session import session_pages
from console.pages_usage import usage_pages
from console.services import ConsoleServices
from console.web import HERE, install_error_pages, renderer, session_auth


def create_console(services: ConsoleServices) -> FastAPI:
    """The console as an app of its own, to be mounted at ``/console``."""
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    app.state.services = services
    render = renderer(MoneyFormat(services.parts.currency, services.parts.rates))
    auth = session_auth(services)
    install_error_pages(app, render)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    for build in (session_pages, ask_pages, usage_pages, review_pages, admin_pages, ops_pages):
        app.include_router(build(services, auth, render))
    return app
