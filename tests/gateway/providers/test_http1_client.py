"""loregate's HTTP/1.1 upstream client against real sockets, on asyncio's loop and on uvloop
(the loop ``loregate serve`` runs): keep-alive reuse, bodies by length, by chunks and by close,
the per-read timeout, failures mid-answer, the pool's limit, header hygiene."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import pytest
import uvloop

from gateway.providers.http1_client import (
    Http1Pool,
    UpstreamDisconnected,
    UpstreamTimeout,
    _Connection,
)

Answer = Callable[[asyncio.StreamWriter, dict[str, str], bytes], Awaitable[None]]
RUNNERS = {"asyncio": asyncio.run, "uvloop": uvloop.run}


@pytest.fixture(params=sorted(RUNNERS))
def run(request: pytest.FixtureRequest) -> Callable[[Coroutine[Any, Any, None]], None]:
    return RUNNERS[request.param]  # type: ignore[return-value]


class Upstream:
    """A TCP server that reads each request (head and ``content-length`` body) and lets
    ``answer`` write the response; counts connections and keeps what it received."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.connections = 0
        self.open_now = self.most_open = 0
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.server: asyncio.Server | None = None

    async def __aenter__(self) -> str:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.open_now += 1
        self.most_open = max(self.most_open, self.open_now)
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                headers = {
                    k.lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:])
                }
                headers[":request-line"] = lines[0]
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                self.requests.append((headers, body))
                await self.answer(writer, headers, body)
                if writer.is_closing():
                    return
        finally:
            self.open_now -= 1
            writer.close()


async def ok(writer: asyncio.StreamWriter, headers: dict[str, str], body: bytes) -> None:
    writer.write(
        b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\nx-seen: a\r\nx-seen: b\r\n\r\n%s"
        % (len(body), body)
    )


def pool(url: str, **kw: Any) -> Http1Pool:
    options: dict[str, Any] = {"limit": 8, "connect_timeout_s": 2.0, "read_timeout_s": 2.0}
    options.update(kw)
    return Http1Pool(url, headers={"x-api-key": "k", "anthropic-version": "v1"}, **options)


async def fetch(p: Http1Pool, body: bytes = b"") -> bytes:
    """One POST's whole answer, its connection given back."""
    response = await p.post("/x", body)
    try:
        return await response.read()
    finally:
        response.release()


def test_requests_reuse_one_connection_and_carry_their_headers(run: Any) -> None:
    upstream = Upstream(ok)

    async def main() -> None:
        async with upstream as url:
            p = pool(url + "/base")
            for i in range(20):
                extra = {"anthropic-beta": "tools", "Anthropic-Version": "v2"} if i == 0 else None
                response = await p.post("/v1/messages", b'{"n":%d}' % i, extra)
                assert response.status == 200 and response.reason == "OK"
                assert response.headers["x-seen"] == "a, b"
                assert await response.read() == b'{"n":%d}' % i
                response.release()
            await p.aclose()

    run(main())
    assert upstream.connections == 1
    first, later = upstream.requests[0][0], upstream.requests[1][0]
    assert first[":request-line"] == "POST /base/v1/messages HTTP/1.1"
    assert first["host"] == upstream.requests[0][0]["host"] and first["host"].startswith("127.")
    assert (first["anthropic-beta"], first["anthropic-version"]) == ("tools", "v2")
    assert later["anthropic-version"] == "v1" and "anthropic-beta" not in later
    assert later["x-api-key"] == "k" and later["content-length"] == "7"


def test_a_chunked_body_arrives_piece_by_piece(run: Any) -> None:
    async def chunked(writer: asyncio.StreamWriter, headers: dict[str, str], body: bytes) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
        for piece in (b"event: a\n\n", b"event: b\n\n"):
            writer.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            await writer.drain()
            await asyncio.sleep(0.05)
        writer.write(b"0\r\n\r\n")

    upstream = Upstream(chunked)

    async def main() -> None:
        async with upstream as url:
            p = pool(url)
            response = await p.post("/s", b"{}")
            pieces = [piece async for piece in response.content.iter_any()]
            response.release()
            assert pieces == [b"event: a\n\n", b"event: b\n\n"]  # apart, as they were sent
            again = await p.post("/s", b"{}")
            assert await again.read() == b"event: a\n\nevent: b\n\n"
            again.release()

    run(main())
    assert upstream.connections == 1


def test_a_body_that_ends_with_the_connection_is_whole_and_not_reused(run: Any) -> None:
    async def until_close(
        writer: asyncio.StreamWriter, headers: dict[str, str], body: bytes
    ) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nall of it")
        await writer.drain()
        writer.close()

    upstream = Upstream(until_close)

    async def main() -> None:
        async with upstream as url:
            p = pool(url)
            for _ in range(2):
                assert await fetch(p) == b"all of it"

    run(main())
    assert upstream.connections == 2


def test_an_answer_cut_short_is_an_error_and_the_pool_goes_on(run: Any) -> None:
    calls = 0

    async def cut(writer: asyncio.StreamWriter, headers: dict[str, str], body: bytes) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly this")
            await writer.drain()
            writer.close()
        else:
            await ok(writer, headers, body)

    upstream = Upstream(cut)

    async def main() -> None:
        async with upstream as url:
            p = pool(url, limit=1)  # the failed answer must give its slot back
            response = await p.post("/x", b"")
            with pytest.raises(UpstreamDisconnected, match="closed the connection mid-answer"):
                await response.read()
            response.release()
            assert await fetch(p, b"fine") == b"fine"

    run(main())
    assert upstream.connections == 2


def test_an_upstream_that_says_nothing_times_out_per_read(run: Any) -> None:
    async def silent(writer: asyncio.StreamWriter, headers: dict[str, str], body: bytes) -> None:
        await asyncio.sleep(5)

    async def slow_pieces(
        writer: asyncio.StreamWriter, headers: dict[str, str], body: bytes
    ) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\n")
        for piece in (b"ab", b"cd", b"ef"):  # 0.45 s in all, never 0.2 s without a byte
            await asyncio.sleep(0.15)
            writer.write(piece)

    async def main() -> None:
        async with Upstream(silent) as url:
            p = pool(url, read_timeout_s=0.2, limit=1)
            started = asyncio.get_running_loop().time()
            with pytest.raises(UpstreamTimeout, match=r"within 0\.2s"):
                await p.post("/x", b"")
            assert asyncio.get_running_loop().time() - started < 1.0
        async with Upstream(slow_pieces) as url:
            p = pool(url, read_timeout_s=0.2, limit=1)
            assert await fetch(p) == b"abcdef"

    run(main())


def test_an_answer_asked_for_with_its_body_comes_once_the_body_does(
    run: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``with_body``: the caller is woken once, when the body arrives, not already for the
    head (a body that never comes is still the read timeout)."""
    waits: list[int] = []
    real_wait = _Connection.wait

    async def counted(self: _Connection, timeout_s: float) -> None:
        waits.append(1)
        await real_wait(self, timeout_s)

    monkeypatch.setattr(_Connection, "wait", counted)

    def head_then(body: bytes | None) -> Answer:
        async def answer(writer: asyncio.StreamWriter, headers: dict[str, str], _: bytes) -> None:
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\n")
            await writer.drain()
            await asyncio.sleep(0.3 if body is not None else 5)
            if body is not None:
                writer.write(body)

        return answer

    async def main() -> None:
        async with Upstream(head_then(b"late")) as url:
            p = pool(url, limit=1)
            loop = asyncio.get_running_loop()
            for with_body in (False, True):
                waits.clear()
                started = loop.time()
                response = await p.post("/x", b"", with_body=with_body)
                waited = loop.time() - started
                assert (waited >= 0.15) is with_body  # the body comes 0.3 s after the head
                assert await response.read() == b"late"
                response.release()
                assert len(waits) == (1 if with_body else 2)  # the head, then the body
        async with Upstream(head_then(None)) as url:
            p = pool(url, read_timeout_s=0.2, limit=1)
            with pytest.raises(UpstreamTimeout, match=r"within 0\.2s"):
                await p.post("/x", b"", with_body=True)

    run(main())


def test_refused_and_garbled_answers_are_connection_errors(run: Any) -> None:
    async def garbage(writer: asyncio.StreamWriter, headers: dict[str, str], body: bytes) -> None:
        writer.write(b"SMTP ready\r\n\r\n")

    async def main() -> None:
        async with Upstream(ok) as url:
            closed = url
        with pytest.raises(UpstreamDisconnected, match=r"could not connect to 127\.0\.0\.1"):
            await pool(closed).post("/x", b"")
        async with Upstream(garbage) as url:
            with pytest.raises(UpstreamDisconnected, match=r"not HTTP/1\.1"):
                await pool(url).post("/x", b"")

    run(main())


def test_the_pool_holds_at_most_its_limit_of_connections(run: Any) -> None:
    async def slow(writer: asyncio.StreamWriter, headers: dict[str, str], body: bytes) -> None:
        await asyncio.sleep(0.05)
        await ok(writer, headers, body)

    upstream = Upstream(slow)

    async def main() -> None:
        async with upstream as url:
            p = pool(url, limit=2)
            assert await asyncio.gather(*(fetch(p, b"%d" % i) for i in range(6))) == [
                b"%d" % i for i in range(6)
            ]

    run(main())
    assert upstream.most_open == 2 and upstream.connections == 2


def test_a_connection_the_upstream_closed_while_idle_is_not_used_again(run: Any) -> None:
    async def then_close(
        writer: asyncio.StreamWriter, headers: dict[str, str], body: bytes
    ) -> None:
        await ok(writer, headers, body)
        await writer.drain()
        writer.close()  # keep-alive by the headers, closed all the same

    upstream = Upstream(then_close)

    async def main() -> None:
        async with upstream as url:
            p = pool(url)
            for _ in range(3):
                assert await fetch(p, b"hi") == b"hi"
                await asyncio.sleep(0.05)  # the close reaches the client

    run(main())
    assert upstream.connections == 3


def test_bad_urls_and_headers_are_refused_by_name() -> None:
    with pytest.raises(ValueError, match="not an http"):
        Http1Pool("ftp://host/", headers={}, limit=1, connect_timeout_s=1, read_timeout_s=1)

    async def main() -> None:
        p = pool("http://127.0.0.1:9")
        with pytest.raises(ValueError, match="'anthropic-beta'"):
            await p.post("/x", b"", {"anthropic-beta": "a\r\nx-api-key: stolen"})

    asyncio.run(main())


def test_a_head_split_across_reads_is_read_whole_and_stays_with_its_answer(run: Any) -> None:
    """The head is kept as the bytes that carried it and read only when asked: a head cut in
    pieces by the network reads whole, and an answer's headers are still its own after the
    connection went on to the next request."""
    count = 0

    async def in_pieces(writer: asyncio.StreamWriter, headers: dict[str, str], body: bytes) -> None:
        nonlocal count
        count += 1
        head = b"HTTP/1.1 201 Made Here\r\nx-n: %d\r\nretry-after: 7\r\ncontent-length: 2\r\n\r\n"
        head %= count
        for i in range(0, len(head), 9):
            writer.write(head[i : i + 9])
            await writer.drain()
            await asyncio.sleep(0.002)
        writer.write(b"ok")

    upstream = Upstream(in_pieces)

    async def main() -> None:
        async with upstream as url:
            p = pool(url)
            first = await p.post("/x", b"", {"anthropic-version": "a"})
            assert await first.read() == b"ok"
            first.release()
            second = await p.post("/x", b"", {"anthropic-version": "b"})
            assert await second.read() == b"ok"
            second.release()
            assert (first.status, first.reason) == (201, "Made Here")
            assert first.headers == {"x-n": "1", "retry-after": "7", "content-length": "2"}
            assert second.headers["x-n"] == "2"
            await p.aclose()

    run(main())
    assert upstream.connections == 1
    assert [h["anthropic-version"] for h, _ in upstream.requests] == ["a", "b"]
