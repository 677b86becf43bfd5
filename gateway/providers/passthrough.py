"""The pass-through path: a client's body forwarded as bytes, the answer relayed as bytes.

For a request that needs no translation (Anthropic format in and out, OpenAI format in and
out) the provider does not rebuild the request through its SDK: it sends the client's own body
with only the model id (and ``max_tokens``, when a smaller fallback caps it) rewritten, and its
own credentials and version headers, over one shared connection pool, and hands the
upstream's bytes back (``ModelResponse.raw``, ``StreamEvent.raw``) so the HTTP layer returns
them without serialising again. Usage is still read from those bytes on the way (the ledger,
budgets and audit see the same facts as on the SDK path), and every failure maps onto the same
``kernel.errors`` classes, so the resilience wrappers (retry, breaker, fallback) behave alike.

The pool is loregate's own HTTP/1.1 client (gateway/providers/http1_client.py: a fraction of
a general client's cost a call, measured by benchmarks/upstream_client.py); an upstream reached
through an HTTP(S) proxy goes through aiohttp's, which speaks CONNECT and proxy credentials.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.metadata
import urllib.parse
import urllib.request
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any, NoReturn, Protocol

import aiohttp
import orjson

from gateway.providers.http1_client import Http1Pool, UpstreamDisconnected, UpstreamTimeout
from gateway.providers.wire import (
    broken_stream,
    forwardable_headers,
    status_error,
    transport_error,
)
from gateway.types import ModelRequest, WireBody
from kernel.errors import ProviderError
from kernel.json_bytes import compact_json_bytes

# How many connections the pool keeps to one upstream (a gateway serving many clients at once).
POOL_SIZE = 256

# Upstreams see loregate as the client (the caller's own agent string is not forwarded, as on
# the SDK path, so a provider's logs tell gateway traffic from direct traffic).
try:
    USER_AGENT = f"loregate/{importlib.metadata.version('loregate')}"
except importlib.metadata.PackageNotFoundError:  # a source tree that was never installed
    USER_AGENT = "loregate"


def _max_tokens_keys(body: dict[str, Any], fmt: str) -> tuple[str, ...]:
    """The body's max-tokens fields (Anthropic's is required; OpenAI's two are optional)."""
    if fmt == "anthropic":
        return ("max_tokens",)
    return tuple(k for k in ("max_completion_tokens", "max_tokens") if k in body)


def wire_body(request: ModelRequest, *, stream: bool, include_usage: bool = False) -> bytes:
    """The client's body for ``request.model`` (the pinned model id): its bytes unchanged when
    nothing differs, else the same object with only ``model``, its max-tokens field, ``stream``
    (and OpenAI's ``stream_options.include_usage``) set."""
    wire = request.wire
    assert wire is not None
    body = wire.body
    keys = _max_tokens_keys(body, wire.format)
    options = body.get("stream_options")
    usage_ok = not include_usage or (isinstance(options, dict) and options.get("include_usage"))
    if (
        body.get("model") == request.model
        and all(body.get(k) == request.max_tokens for k in keys)
        and bool(body.get("stream", False)) == stream
        and usage_ok
    ):
        return wire.raw
    out = dict(body)  # shallow: the nested messages are shared, never changed
    out["model"] = request.model
    for key in keys:
        out[key] = request.max_tokens
    if stream:
        out["stream"] = True
        if include_usage:
            out["stream_options"] = {**(options or {}), "include_usage": True}
    else:
        out.pop("stream", None)
        out.pop("stream_options", None)
    return compact_json_bytes(out)


class Body(Protocol):
    def iter_any(self) -> AsyncIterator[bytes]: ...


class UpstreamResponse(Protocol):
    """What the providers read of an answer (``Http1Response`` and aiohttp's alike)."""

    @property
    def status(self) -> int: ...
    @property
    def reason(self) -> str | None: ...
    @property
    def headers(self) -> Mapping[str, str]: ...
    @property
    def content(self) -> Body: ...
    async def read(self) -> bytes: ...
    def release(self) -> Any: ...


@dataclass(frozen=True, slots=True)
class SseFrame:
    event: str | None
    data: bytes
    raw: bytes  # the frame with its blank line, as it goes to the client


def parse_frame(frame: bytes) -> SseFrame | None:
    """One SSE frame (without the blank line after it); ``None`` for a comment-only frame."""
    event: str | None = None
    data: list[bytes] = []
    for line in frame.split(b"\n"):
        if line.startswith(b"data:"):
            data.append(line[6:] if line[5:6] == b" " else line[5:])
        elif line.startswith(b"event:"):
            event = line[6:].strip().decode()
    if event is None and not data:
        return None
    return SseFrame(event, b"\n".join(data), frame + b"\n\n")


async def sse_frames(content: Body) -> AsyncIterator[SseFrame]:
    """The frames of an SSE body as they arrive (each yielded as soon as its blank line is)."""
    async for batch in sse_batches(content):
        for frame in batch:
            yield frame


async def sse_batches(content: Body) -> AsyncIterator[list[SseFrame]]:
    """The frames of an SSE body, those that arrived together as one list (as soon as the
    last one's blank line is there): a relay can send them to its client in one write."""
    buffer = b""
    async for chunk in content.iter_any():
        if b"\r" in chunk:
            chunk = chunk.replace(b"\r\n", b"\n")
        buffer += chunk
        batch: list[SseFrame] = []
        while True:
            end = buffer.find(b"\n\n")
            if end < 0:
                break
            frame, buffer = buffer[:end], buffer[end + 2 :]
            parsed = parse_frame(frame)
            if parsed is not None:
                batch.append(parsed)
        if batch:
            yield batch
    if buffer.strip():
        parsed = parse_frame(buffer.rstrip(b"\n"))
        if parsed is not None:
            yield [parsed]


def env_proxy(url: str) -> str | None:
    """The proxy ``HTTP(S)_PROXY``/``NO_PROXY`` give for ``url`` (as the SDKs' clients honour
    them), read once: aiohttp's ``trust_env`` reads the environment and ``~/.netrc`` again on
    every request, 0.3 ms each on loopback."""
    parts = urllib.parse.urlsplit(url)
    if urllib.request.proxy_bypass(parts.hostname or ""):
        return None
    return urllib.request.getproxies().get(parts.scheme)


class UpstreamPool:
    """One upstream's base URL, credentials and connection pool (created on first use, on the
    running loop; a new loop, as in tests, gets a new pool)."""

    def __init__(
        self,
        *,
        base_url: str,
        headers: Mapping[str, str],
        timeout_s: float,
        name: str,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.headers = {**headers, "content-type": "application/json", "user-agent": USER_AGENT}
        self.name = name
        # Per read, not in total: a long stream is fine as long as it keeps sending.
        self.timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=timeout_s, sock_read=timeout_s
        )
        self.timeout_s = timeout_s
        self.proxy = env_proxy(self.base_url)
        self._session: aiohttp.ClientSession | None = None
        self._direct: Http1Pool | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def direct(self) -> Http1Pool:
        """The pool of direct connections (no proxy) for the running loop."""
        loop = asyncio.get_running_loop()
        if self._direct is None or self._loop is not loop:
            self._direct = Http1Pool(
                self.base_url,
                headers={**self.headers, "accept-encoding": "identity"},
                limit=POOL_SIZE,
                connect_timeout_s=self.timeout_s,
                read_timeout_s=self.timeout_s,
            )
            self._loop = loop
        return self._direct

    def session(self) -> aiohttp.ClientSession:
        """aiohttp's pool, for an upstream behind a proxy."""
        loop = asyncio.get_running_loop()
        if self._session is None or self._loop is not loop or self._session.closed:
            connector = aiohttp.TCPConnector(limit=POOL_SIZE, ttl_dns_cache=300)
            self._session = aiohttp.ClientSession(
                connector=connector, timeout=self.timeout, skip_auto_headers=("User-Agent",)
            )
            self._loop = loop
        return self._session

    def request_headers(self, request: ModelRequest) -> dict[str, str]:
        if not request.extra_headers:
            return self.headers
        return {**self.headers, **forwardable_headers(request.extra_headers)}

    async def open(
        self, path: str, body: bytes, request: ModelRequest, *, with_body: bool = False
    ) -> UpstreamResponse:
        """POST ``body``; the response with a 2xx status (headers read, body not yet, or
        begun with ``with_body``: ``Http1Pool.post``), else the mapped ``ProviderError``."""
        response: UpstreamResponse
        try:
            if self.proxy is None:
                extra = request.extra_headers
                response = await self.direct().post(
                    path, body, forwardable_headers(extra) if extra else None, with_body=with_body
                )
            else:
                response = await self.session().post(
                    self.base_url + path,
                    data=body,
                    headers=self.request_headers(request),
                    proxy=self.proxy,
                )
        except Exception as exc:
            self.raise_transport(exc, request)
        if response.status >= 400:
            try:
                raw = await response.read()
            except Exception:
                raw = b""
            finally:
                response.release()
            raise self.status(response, raw, request)
        return response

    async def post_json(self, path: str, body: bytes, request: ModelRequest) -> tuple[bytes, Any]:
        """POST ``body``; the answer's bytes and the JSON value they hold."""
        response = await self.open(path, body, request, with_body=True)
        try:
            raw = await response.read()
            return raw, orjson.loads(raw)
        except Exception as exc:  # a cut answer, a read timeout, or bytes that are not JSON
            self.raise_transport(exc, request)
        finally:
            response.release()

    def status(
        self, response: UpstreamResponse, raw: bytes, request: ModelRequest
    ) -> ProviderError:
        try:
            body: Any = orjson.loads(raw) if raw else None
        except orjson.JSONDecodeError:
            body = None
        return status_error(
            provider=self.name,
            model=request.model,
            status=response.status,
            message=response.reason or raw[:200].decode(errors="replace"),
            headers=response.headers,
            body=body,
        )

    def raise_transport(self, exc: Exception, request: ModelRequest) -> NoReturn:
        mapped = transport_error(
            exc,
            provider=self.name,
            model=request.model,
            timeouts=(asyncio.TimeoutError, aiohttp.ServerTimeoutError, UpstreamTimeout),
            connections=(aiohttp.ClientError, UpstreamDisconnected),
        )
        if mapped is None:
            raise exc
        raise mapped from exc

    def raise_broken(self, exc: Exception, request: ModelRequest, *, started: bool) -> NoReturn:
        """A stream's failure: ``StreamInterrupted`` once it began (never retried), else the
        transport error (retried like any failed call)."""
        if started:
            raise broken_stream(exc, provider=self.name, model=request.model) from exc
        self.raise_transport(exc, request)

    async def aclose(self) -> None:
        if self._direct is not None:
            await self._direct.aclose()
            self._direct = None
        if self._session is not None and not self._session.closed:
            # Its loop may be gone (a test's): then there is nothing left to close.
            with contextlib.suppress(RuntimeError):
                await self._session.close()
        self._session = None


def usable(request: ModelRequest, fmt: str) -> WireBody | None:
    """The request's wire body if it is in ``fmt`` (else the provider takes its SDK path)."""
    wire = request.wire
    return wire if wire is not None and wire.format == fmt else None
