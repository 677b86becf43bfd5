"""The compatible endpoints' body reading: whole, in pieces, a client that hung up, and the
errors a bad body gets (named, 400)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from starlette.requests import ClientDisconnect, Request

from gateway.http.common import body_bytes, raw_json_body
from kernel.errors import InvalidRequest


def request_of(*messages: dict[str, Any]) -> Request:
    queue = list(messages)

    async def receive() -> dict[str, Any]:
        return queue.pop(0)

    return Request({"type": "http", "method": "POST", "headers": []}, receive)


def piece(body: bytes, more: bool) -> dict[str, Any]:
    return {"type": "http.request", "body": body, "more_body": more}


def test_a_body_whole_or_in_pieces_reads_the_same() -> None:
    whole = request_of(piece(b'{"a": 1}', False))
    pieces = request_of(piece(b'{"a"', True), piece(b"", True), piece(b": 1}", False))
    assert asyncio.run(body_bytes(whole)) == b'{"a": 1}'
    assert asyncio.run(raw_json_body(pieces)) == (b'{"a": 1}', {"a": 1})


def test_a_client_that_hangs_up_mid_body_is_a_disconnect() -> None:
    gone = request_of(piece(b'{"a"', True), {"type": "http.disconnect"})
    with pytest.raises(ClientDisconnect):
        asyncio.run(body_bytes(gone))


@pytest.mark.parametrize(
    ("body", "problem"),
    [(b"{not json", "not valid JSON"), (b"[1, 2]", "must be a JSON object")],
)
def test_a_body_that_is_not_a_json_object_is_refused_by_name(body: bytes, problem: str) -> None:
    with pytest.raises(InvalidRequest, match=problem):
        asyncio.run(raw_json_body(request_of(piece(body, False))))
