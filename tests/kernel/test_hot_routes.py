"""Hot routes: the model-call endpoints skip the router, and nothing a client sees changes."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi.testclient import TestClient

from kernel.errors import ApiError, InvalidRequest
from kernel.hot_routes import HotRoutes
from kernel.request_context import RequestIdMiddleware, request_id
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

    app = FastAPI()
    install_error_handlers(app, [("/v1/messages", vendor)])
    app.add_route("/v1/messages", messages, methods=["POST"])
    if hot:
        app.add_middleware(HotRoutes, routes={"/v1/messages": messages})
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
