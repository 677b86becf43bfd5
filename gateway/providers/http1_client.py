"""HTTP/1.1 to one upstream: keep-alive connections on asyncio protocols, parsed by llhttp.

The pass-through path (gateway/providers/passthrough.py) sends a POST of bytes and reads the
answer whole or as it arrives, nothing more; a general client's machinery (cookie jars,
redirects, tracing hooks, multidicts, a task per request) cost more than loregate's own work
for each call. ``benchmarks/upstream_client.py`` measures both against the same server in one
run. Parsing is llhttp's (httptools, the parser uvicorn serves with); what is written here is
the connection's life: the pool, keep-alive reuse, the per-read timeout and the errors.

An upstream reached through an HTTP(S) proxy keeps aiohttp (CONNECT tunnels, proxy
credentials): see ``UpstreamPool``.
"""

from __future__ import annotations

import asyncio
import collections
import ssl
import time
import urllib.parse
from collections.abc import AsyncIterator, Mapping
from typing import cast

import httptools

# An idle connection is not reused after this long (aiohttp's default keep-alive): upstreams
# close idle connections, and a request must not race that close.
KEEPALIVE_S = 15.0
# Body bytes held before the socket is no longer read (a consumer slower than its upstream).
HIGH_WATER = 1 << 20
_NO_BODY_STATUS = frozenset({204, 304})
_LENGTH_HEADERS = frozenset({b"content-length", b"transfer-encoding"})
# Distinct sets of a caller's headers whose lines are kept (anything beyond starts afresh).
_EXTRA_LINES_KEPT = 256


class UpstreamTimeout(TimeoutError):
    """No connection, or no byte of the answer, within the timeout."""


class UpstreamDisconnected(ConnectionError):
    """The connection failed or closed before the answer was whole, or the answer was not
    HTTP/1.1."""


class _Connection(asyncio.Protocol):
    """One socket to the upstream and the answer to the request in flight on it."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.closed = False
        self.active = False
        self.idle_since = 0.0
        # The bytes fed to the parser until the head was whole: the head is read from them
        # only when asked (an answer that succeeds never is), instead of a callback per header.
        self.head: list[bytes] = []
        self.head_done = self.complete = self.keep_alive = False
        self.chunks: collections.deque[bytes] = collections.deque()
        self.buffered = 0
        self.paused = False
        self.error: BaseException | None = None
        self.waiter: asyncio.Future[None] | None = None
        # False while a reader waits for the body too: the head alone does not wake it.
        self.wake_on_head = True

    # The request ---------------------------------------------------------------------------
    def send(self, head: bytes, body: bytes, *, wake_on_head: bool = True) -> None:
        self.active = True
        self.head = []
        self.head_done = self.complete = self.keep_alive = False
        self.wake_on_head = wake_on_head
        self.chunks.clear()
        self.buffered = 0
        assert self.transport is not None
        if len(body) < 65536:
            self.transport.write(head + body)
        else:  # a large body is not copied again to join it
            self.transport.writelines((head, body))

    async def wait(self, timeout_s: float) -> None:
        """Until the parser has more for the reader (or failed); ``UpstreamTimeout`` after
        ``timeout_s`` without a byte."""
        if self.error is not None:
            raise self.error
        waiter = self.loop.create_future()
        self.waiter = waiter
        timer = self.loop.call_later(timeout_s, _expire, waiter, timeout_s)
        try:
            await waiter
        finally:
            timer.cancel()
            self.waiter = None

    def take(self) -> bytes:
        """The body bytes that arrived since the last call."""
        data = self.chunks.popleft() if len(self.chunks) == 1 else b"".join(self.chunks)
        self.chunks.clear()
        self.buffered = 0
        if self.paused and self.transport is not None:
            self.paused = False
            self.transport.resume_reading()
        return data

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    # asyncio.Protocol ----------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        if not self.active:  # bytes nobody asked for: this connection cannot be trusted
            self.close()
            return
        if not self.head_done:
            self.head.append(data)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(UpstreamDisconnected(f"the upstream's answer is not HTTP/1.1: {exc}"))
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.complete or not self.active:
            return
        if exc is None and self.head_done and self._ends_with_close():
            self.complete = True
            self._wake()
            return
        why = f": {exc}" if exc is not None else ""
        self._fail(UpstreamDisconnected(f"the upstream closed the connection mid-answer{why}"))

    def _ends_with_close(self) -> bool:
        """A body with neither a length nor chunks: it ends when the connection does."""
        if self.parser.get_status_code() in _NO_BODY_STATUS:
            return False
        return not any(name.lower() in _LENGTH_HEADERS for name, _ in head_lines(self.head)[1])

    # llhttp's callbacks --------------------------------------------------------------------
    def on_headers_complete(self) -> None:
        self.head_done = True
        if self.wake_on_head:
            self._wake()

    def on_body(self, body: bytes) -> None:
        self.chunks.append(body)
        self.buffered += len(body)
        if self.buffered > HIGH_WATER and not self.paused and self.transport is not None:
            self.paused = True
            self.transport.pause_reading()
        self._wake()

    def on_message_complete(self) -> None:
        self.keep_alive = self.parser.should_keep_alive()  # llhttp forgets it once past here
        self.complete = True
        self._wake()

    def _wake(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    def _fail(self, exc: BaseException) -> None:
        self.error = exc
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(exc)


def head_lines(chunks: list[bytes]) -> tuple[bytes, list[tuple[bytes, bytes]]]:
    """The reason phrase and the header lines (name, value) of an answer's head, from the
    bytes fed to the parser until it was whole (llhttp has validated them)."""
    raw = b"".join(chunks)
    lines = raw[: raw.find(b"\r\n\r\n")].split(b"\r\n")
    status = lines[0].split(b" ", 2)
    headers = []
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        headers.append((name.strip(), value.strip()))
    return (status[2] if len(status) > 2 else b""), headers


def _expire(waiter: asyncio.Future[None], timeout_s: float) -> None:
    if not waiter.done():
        waiter.set_exception(UpstreamTimeout(f"no answer from the upstream within {timeout_s}s"))


class Http1Response:
    """An answer whose head has arrived: ``status``, ``reason``, ``headers`` (lower-case
    names; repeated ones joined by commas), the body ``read`` whole or by ``iter_any`` as it
    arrives. ``release`` gives the connection back to the pool when the answer was whole and
    the upstream keeps it open, else closes it; call it exactly as one calls aiohttp's."""

    def __init__(self, pool: Http1Pool, conn: _Connection, timeout_s: float) -> None:
        self._pool, self._conn, self._timeout_s = pool, conn, timeout_s
        self.status = conn.parser.get_status_code()
        self._head_bytes = conn.head  # a request on the reused connection starts a new list
        self._head: tuple[bytes, list[tuple[bytes, bytes]]] | None = None
        self._headers: dict[str, str] | None = None
        self._released = False

    @property
    def content(self) -> Http1Response:
        """aiohttp's shape: ``response.content.iter_any()`` (a property: an attribute holding
        the response itself would make every response a cycle for the collector to find)."""
        return self

    def _head_lines(self) -> tuple[bytes, list[tuple[bytes, bytes]]]:
        if self._head is None:
            self._head = head_lines(self._head_bytes)
        return self._head

    @property
    def reason(self) -> str:
        return self._head_lines()[0].decode("latin-1")

    @property
    def headers(self) -> Mapping[str, str]:
        """Decoded when first read (an answer that succeeds is never asked for them)."""
        if self._headers is None:
            headers: dict[str, str] = {}
            for raw_name, raw_value in self._head_lines()[1]:
                name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
                headers[name] = f"{headers[name]}, {value}" if name in headers else value
            self._headers = headers
        return self._headers

    async def read(self) -> bytes:
        conn = self._conn
        if conn.complete:  # the usual case: the whole answer came with its head
            return conn.take() if conn.chunks else b""
        return b"".join([chunk async for chunk in self.iter_any()])

    async def iter_any(self) -> AsyncIterator[bytes]:
        conn = self._conn
        while True:
            if conn.chunks:
                yield conn.take()
            elif conn.complete:
                return
            else:
                await conn.wait(self._timeout_s)

    def release(self) -> None:
        if not self._released:
            self._released = True
            conn = self._conn
            self._pool.put_back(conn, conn.complete and conn.keep_alive)


class Http1Pool:
    """Keep-alive connections to the origin of ``base_url`` (at most ``limit`` at once; more
    callers wait for one). ``headers`` go with every request; ``post`` adds its own."""

    def __init__(
        self,
        base_url: str,
        *,
        headers: Mapping[str, str],
        limit: int,
        connect_timeout_s: float,
        read_timeout_s: float,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        parts = urllib.parse.urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        self.host = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.netloc = parts.netloc.rpartition("@")[2]
        self.prefix = parts.path.rstrip("/")
        https = parts.scheme == "https"
        self.ssl = (ssl_context or ssl.create_default_context()) if https else None
        self.connect_timeout_s, self.read_timeout_s = connect_timeout_s, read_timeout_s
        self.headers = {k.lower(): v for k, v in headers.items()}
        self._static = _header_lines({"host": self.netloc, **self.headers})
        self._extra_lines: dict[tuple[tuple[str, str], ...], bytes] = {}
        self._idle: list[_Connection] = []
        self._slots = asyncio.Semaphore(limit)
        self._closed = False

    async def post(
        self,
        path: str,
        body: bytes,
        extra_headers: Mapping[str, str] | None = None,
        *,
        with_body: bool = False,
    ) -> Http1Response:
        """Send the request; the answer once its head is there (any status). ``with_body``:
        once its body has begun to arrive too, the usual answer whole (a caller that reads it
        whole is then woken once, not for the head and again for the body; each wake resumes
        every frame of the call). The read timeout then runs until the first body byte."""
        lines = self._lines(extra_headers) if extra_headers else self._static
        head = b"POST %s HTTP/1.1\r\n%scontent-length: %d\r\n\r\n" % (
            (self.prefix + path).encode("latin-1"),
            lines,
            len(body),
        )
        await self._slots.acquire()
        conn: _Connection | None = None
        try:
            conn = self._idle_connection() or await self._connect()
            conn.send(head, body, wake_on_head=not with_body)
            while not conn.head_done or (with_body and not (conn.chunks or conn.complete)):
                await conn.wait(self.read_timeout_s)
        except BaseException:
            if conn is not None:
                conn.close()
            self._slots.release()
            raise
        return Http1Response(self, conn, self.read_timeout_s)

    def _lines(self, extra: Mapping[str, str]) -> bytes:
        """The head's header lines with a caller's headers, built once per distinct set (a
        client sends the same few, such as ``anthropic-version``, with every request)."""
        key = tuple(extra.items())
        lines = self._extra_lines.get(key)
        if lines is None:
            merged = {**self.headers, **{k.lower(): v for k, v in extra.items()}}
            lines = _header_lines({"host": self.netloc, **merged})
            if len(self._extra_lines) >= _EXTRA_LINES_KEPT:
                self._extra_lines.clear()
            self._extra_lines[key] = lines
        return lines

    def put_back(self, conn: _Connection, reusable: bool) -> None:
        conn.active = False
        if reusable and not conn.closed and not self._closed:
            conn.idle_since = time.monotonic()
            self._idle.append(conn)
        else:
            conn.close()
        self._slots.release()

    def _idle_connection(self) -> _Connection | None:
        now = time.monotonic()
        while self._idle:
            conn = self._idle.pop()  # the most recent: the likeliest still open
            closing = conn.transport is None or conn.transport.is_closing()
            if not conn.closed and not closing and now - conn.idle_since < KEEPALIVE_S:
                return conn
            conn.close()
        return None

    async def _connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self.connect_timeout_s):
                _, conn = await loop.create_connection(
                    lambda: _Connection(loop),
                    self.host,
                    self.port,
                    ssl=self.ssl,
                    server_hostname=self.host if self.ssl is not None else None,
                )
        except TimeoutError as exc:
            raise UpstreamTimeout(
                f"no connection to {self.netloc} within {self.connect_timeout_s}s"
            ) from exc
        except OSError as exc:
            raise UpstreamDisconnected(f"could not connect to {self.netloc}: {exc}") from exc
        return conn

    async def aclose(self) -> None:
        """Close the idle connections now; those in use close when released."""
        self._closed = True
        while self._idle:
            self._idle.pop().close()


def _header_lines(headers: Mapping[str, str]) -> bytes:
    """``name: value`` lines; a value that would split the head is refused (no header
    injection through a forwarded header)."""
    out = []
    for name, value in headers.items():
        if "\r" in value or "\n" in value or "\r" in name or "\n" in name or ":" in name:
            raise ValueError(f"header {name!r} has a character HTTP does not allow there")
        out.append(f"{name}: {value}\r\n")
    return "".join(out).encode("latin-1")
