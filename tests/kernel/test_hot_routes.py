"""Hot routes: the model-call endpoints skip the router, and nothing a client sees changes."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi.testclient import TestClient

from kernel.errors import ApiError, InvalidRequest
from kernel.hot_routes import TELEMETRY_OFF, HotRoutesApp
from kernel.request_context import RequestIdMiddleware, current_request_id, request_id
from loregate.errors_http import install_error_handlers


def app_with(hot: bool) -> FastAPI:
    async def messages(request: Request) -> Response:
        body = await request.json()
        if body.get("fail") == "api":
            raise InvalidRequest("max_tokens: must be positive")
        if body.get("fail") == "bug":
            raise RuntimeError("a bug")
        return JSONResponse(
            {
                "routed": "endpoint" in request.scope,  # the router stamps the matched endpoint
                "request_id": request_id(request),
                "echo": body,
            }
        )

    def vendor(request: Request, exc: ApiError) -> Response:
        return JSONResponse({"type": "error", "error": {"message": exc.message}}, exc.status)

    app = HotRoutesApp(telemetry=TELEMETRY_OFF)
    install_error_handlers(app, [("/v1/messages", vendor)])
    app.add_route("/v1/messages", messages, methods=["POST"])
    if hot:
        app.hot_routes["/v1/messages"] = messages
    app.add_middleware(RequestIdMiddleware)
    return app


def test_a_hot_path_skips_the_router_and_answers_as_the_router_would() -> None:
    answers = {}
    for hot in (False, True):
        with TestClient(app_with(hot), raise_server_exceptions=False) as client:
            ok = client.post("/v1/messages", json={"x": 1}, headers={"x-request-id": "r-1"})
            bad = client.post("/v1/messages", json={"fail": "api"})
            bug = client.post("/v1/messages", json={"fail": "bug"})
            wrong_method = client.get("/v1/messages")
            elsewhere = client.post("/v1/other", json={})
        assert ok.json()["routed"] is not hot
        answers[hot] = [
            (
                ok.status_code,
                ok.json()["echo"],
                ok.json()["request_id"],
                ok.headers["x-request-id"],
            ),
            (bad.status_code, bad.json()),
            (bug.status_code, bug.json()["error"]["code"]),
            (wrong_method.status_code, elsewhere.status_code),
        ]
    assert answers[True] == answers[False]
    assert answers[True][0] == (200, {"x": 1}, "r-1", "r-1")
    assert answers[True][1] == (
        400,
        {"type": "error", "error": {"message": "max_tokens: must be positive"}},
    )
    assert answers[True][2] == (500, "internal_error")  # the app's last-resort handler
    assert answers[True][3] == (405, 404)


def test_under_a_root_path_the_hot_path_is_matched_without_it() -> None:
    with TestClient(app_with(True), root_path="/gw") as client:
        ok = client.post("/gw/v1/messages", json={"x": 2})
    assert ok.status_code == 200 and ok.json()["routed"] is False


def test_a_hot_path_runs_ahead_of_every_middleware_with_its_request_id_set() -> None:
    """Nothing of the app's stack runs for a hot request (a middleware sees only the others),
    while the request id is stamped, current in the endpoint and returned, as the request-id
    middleware would have done."""
    seen: list[str] = []
    current: list[str | None] = []

    async def messages(request: Request) -> Response:
        current.append(current_request_id.get())
        return JSONResponse({"request_id": request_id(request)})

    app = HotRoutesApp(telemetry=TELEMETRY_OFF)
    app.add_route("/v1/messages", messages, methods=["POST"])
    app.add_route("/other", messages, methods=["POST"])
    app.hot_routes["/v1/messages"] = messages

    @app.middleware("http")
    async def watch(request: Request, call_next: Any) -> Response:
        seen.append(request.url.path)
        response: Response = await call_next(request)
        return response

    app.add_middleware(RequestIdMiddleware)
    with TestClient(app) as client:
        hot = client.post("/v1/messages", json={}, headers={"x-request-id": "r-9"})
        fresh = client.post("/v1/messages", json={})
        other = client.post("/other", json={})
    assert seen == ["/other"]
    assert hot.json()["request_id"] == hot.headers["x-request-id"] == "r-9"
    assert fresh.json()["request_id"] == fresh.headers["x-request-id"] != "r-9"
    assert len(fresh.headers["x-request-id"]) == 32
    assert current[:2] == ["r-9", fresh.headers["x-request-id"]]
    assert other.headers["x-request-id"] == other.json()["request_id"]
    assert current_request_id.get() is None  # reset once the request is over


def test_with_fastapis_telemetry_on_the_hot_paths_keep_its_spans_through_the_router() -> None:
    async def messages(request: Request) -> Response:
        return JSONResponse({"routed": "endpoint" in request.scope})

    app = HotRoutesApp()  # telemetry left on: every request goes through the whole app
    app.add_route("/v1/messages", messages, methods=["POST"])
    app.hot_routes["/v1/messages"] = messages
    with TestClient(app) as client:
        assert client.post("/v1/messages", json={}).json() == {"routed": True}
