"""Deferred work: after the response inside an endpoint's block, at once outside one, and
never lost when the call or the sending fails."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI, Request, Response
from starlette.types import Message

from gateway.http.common import DeferringResponse
from kernel.after_response import Deferred, later


def test_outside_an_endpoint_the_work_runs_at_once() -> None:
    done: list[str] = []
    later(lambda: done.append("now"))
    assert done == ["now"]


def test_inside_the_block_it_waits_and_a_failure_does_not_stop_the_rest() -> None:
    done: list[str] = []

    def broken() -> None:
        raise RuntimeError("observer bug")

    with Deferred() as deferred:
        later(lambda: done.append("a"))
        later(broken)
        later(lambda: done.append("b"))
    assert done == []
    later(lambda: done.append("after the block: at once"))
    deferred.run_now()
    deferred.run_now()  # runs once
    assert done == ["after the block: at once", "a", "b"]


def test_a_call_that_raises_runs_what_it_deferred() -> None:
    done: list[str] = []
    with pytest.raises(ValueError), Deferred():
        later(lambda: done.append("settled"))
        raise ValueError("upstream failed")
    assert done == ["settled"]


async def test_a_task_that_outlives_its_request_runs_its_work_at_once() -> None:
    import asyncio

    done: list[str] = []
    go = asyncio.Event()

    async def background() -> None:  # started inside the block: its context names it
        await go.wait()
        later(lambda: done.append("late"))

    with Deferred() as deferred:
        task = asyncio.create_task(background())
    deferred.run_now()
    go.set()
    await task
    assert done == ["late"]


async def test_the_response_is_sent_before_the_deferred_work_runs() -> None:
    order: list[str] = []
    app = FastAPI()

    @app.post("/call")
    async def call(request: Request) -> Response:
        with Deferred() as deferred:
            later(lambda: order.append("audit"))
        return DeferringResponse(b'{"ok":true}', {"x-a": "1"}, deferred)

    async def asgi(scope: dict, receive: object, send: object) -> None:  # type: ignore[type-arg]
        async def watch(message: Message) -> None:
            if message["type"] == "http.response.body":
                order.append("body sent")
            await send(message)  # type: ignore[operator]

        await app(scope, receive, watch)  # type: ignore[arg-type]

    transport = httpx.ASGITransport(app=asgi)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        r = await client.post("/call")
    assert r.json() == {"ok": True} and r.headers["content-type"] == "application/json"
    assert order == ["body sent", "audit"]


async def test_a_client_gone_before_the_answer_still_gets_the_work_done() -> None:
    done: list[str] = []
    with Deferred() as deferred:
        later(lambda: done.append("audit"))
    response = DeferringResponse(b"{}", {}, deferred)

    async def receive() -> Message:
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        raise OSError("client hung up")

    with pytest.raises(OSError):
        await response({"type": "http", "method": "POST"}, receive, send)
    assert done == ["audit"]


def test_the_answer_carries_the_headers_a_starlette_response_would() -> None:
    """Built without ``Response.__init__``: the same header list, in the same order."""
    headers = {"request-id": "req_1", "x-loregate-cost-nano-usd": "12"}
    for content in (b'{"a":1}', '{"é":1}'):
        with Deferred() as deferred:
            pass
        ours = DeferringResponse(content, headers, deferred)
        theirs = Response(content, headers=headers, media_type="application/json")
        assert ours.raw_headers == theirs.raw_headers and ours.body == theirs.body
        assert ours.status_code == 200 and ours.background is None
