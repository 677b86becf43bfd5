"""A request that fails because Redis or the database is unreachable fails closed with a
503 the client may retry, naming what is down (not an opaque 500)."""

from __future__ import annotations

import redis.exceptions
import sqlalchemy.exc
from fastapi import FastAPI
from fastapi.testclient import TestClient

from loregate.errors_http import install_error_handlers


def test_unreachable_backends_answer_503() -> None:
    app = FastAPI()
    install_error_handlers(app, [])

    @app.get("/redis")
    def redis_down() -> None:
        raise redis.exceptions.ConnectionError("Error 111 connecting to 127.0.0.1:6379")

    @app.get("/db")
    def db_down() -> None:
        raise sqlalchemy.exc.OperationalError("SELECT 1", {}, ConnectionRefusedError())

    @app.get("/bug")
    def bug() -> None:
        raise KeyError("x")

    with TestClient(app, raise_server_exceptions=False) as client:
        r = client.get("/redis")
        assert r.status_code == 503 and r.headers["retry-after"] == "2"
        assert r.json()["error"]["code"] == "backend_unavailable"
        assert "Redis is unreachable" in r.json()["error"]["message"]
        r = client.get("/db")
        assert r.status_code == 503 and "database" in r.json()["error"]["message"]
        assert client.get("/bug").status_code == 500
