"""The emulator's HTTP server: a small ASGI app on uvicorn, in a background thread.

    with EmulatorServer() as emu:
        client = anthropic.Anthropic(base_url=emu.base_url, api_key="test")
        ...

``GET /v1/models`` answers in Anthropic's shape when the request carries ``x-api-key`` or
``anthropic-version``, else in OpenAI's.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Callable
from typing import Any

import uvicorn

from testkit.emulator.anthropic_api import AnthropicApi
from testkit.emulator.asgi import (
    Receive,
    Scope,
    Send,
    Transports,
    all_headers,
    header,
    read_body,
)
from testkit.emulator.faults import FaultQueue
from testkit.emulator.openai_api import OpenAIApi
from testkit.emulator.state import DEFAULT_MODELS, EmulatorState, RecordedRequest

Responder = Callable[[dict[str, Any]], Any]


def _protocol_class(transports: Transports) -> type[asyncio.Protocol]:
    """uvicorn's HTTP protocol, remembering each connection's transport (for scripted resets)."""
    from uvicorn.protocols.http.auto import AutoHTTPProtocol

    base: Any = AutoHTTPProtocol

    class RecordingProtocol(base):  # type: ignore[misc]
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            super().connection_made(transport)
            peer = transport.get_extra_info("peername")
            if peer:
                transports[(peer[0], peer[1])] = transport

        def connection_lost(self, exc: Exception | None) -> None:
            peer = self.transport.get_extra_info("peername") if self.transport else None
            if peer:
                transports.pop((peer[0], peer[1]), None)
            super().connection_lost(exc)

    return RecordingProtocol


class EmulatorApp:
    """The ASGI application: routes to the Anthropic and OpenAI emulations."""

    def __init__(self, state: EmulatorState, transports: Transports) -> None:
        self.state = state
        self.anthropic = AnthropicApi(state, transports)
        self.openai = OpenAIApi(state, transports)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        method, path = scope["method"], scope["path"].rstrip("/")
        raw = await read_body(receive) if method == "POST" else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = ValueError
        self.state.remember(
            RecordedRequest(
                method,
                path,
                all_headers(scope),
                body if isinstance(body, dict) else None,
                self.state.clock(),
            )
        )
        anthropic_client = bool(header(scope, "x-api-key") or header(scope, "anthropic-version"))
        if path in ("/v1/messages", "/v1/messages/count_tokens") and method == "POST":
            await self._anthropic(scope, send, path, body)
        elif path == "/v1/chat/completions" and method == "POST":
            await self._openai(scope, send, body)
        elif path == "/v1/models" and method == "GET":
            if anthropic_client:
                await self.anthropic.models(send)
            else:
                await self.openai.models(send)
        elif anthropic_client:
            await self.anthropic.error(
                send, 404, f"Not found: {method} {path}", self.anthropic.request_id()
            )
        else:
            await self.openai.error(
                send, 404, f"Invalid URL ({method} {path})", self.openai.request_id(), code=None
            )

    async def _anthropic(self, scope: Scope, send: Send, path: str, body: Any) -> None:
        api = self.anthropic
        if not (header(scope, "x-api-key") or header(scope, "authorization")):
            await api.error(send, 401, "x-api-key header is required", api.request_id())
            return
        if not header(scope, "anthropic-version"):
            await api.error(send, 400, "anthropic-version: header is required", api.request_id())
            return
        if body is ValueError or body is None:
            await api.error(
                send,
                400,
                "There was an error parsing the body of your request (invalid JSON).",
                api.request_id(),
            )
            return
        if path.endswith("/count_tokens"):
            await api.count_tokens(scope, send, body)
        else:
            await api.messages(scope, send, body)

    async def _openai(self, scope: Scope, send: Send, body: Any) -> None:
        api = self.openai
        auth = header(scope, "authorization") or ""
        if not auth.lower().startswith("bearer ") or not auth[7:].strip():
            await api.error(
                send,
                401,
                "You didn't provide an API key. You need to provide your "
                "API key in an Authorization header using Bearer auth.",
                api.request_id(),
                code=None,
            )
            return
        await api.chat(scope, send, None if body is ValueError else body)


class EmulatorServer:
    """The emulator on 127.0.0.1 (port 0: the system picks one), served from a daemon thread.

    ``clock`` drives prompt-cache TTLs (default ``time.monotonic``); ``latency_s`` delays every
    generation response; ``min_cacheable`` overrides the per-model minimum cacheable lengths.
    """

    def __init__(
        self,
        clock: Callable[[], float] | None = None,
        latency_s: float = 0.0,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        min_cacheable: dict[str, int] | None = None,
        models: tuple[str, ...] = DEFAULT_MODELS,
        record: bool = True,
    ) -> None:
        self.state = EmulatorState(
            clock=clock,
            latency_s=latency_s,
            min_cacheable=min_cacheable,
            models=models,
            record=record,
        )
        self.host = host
        self._port = port
        self._transports: Transports = {}
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    # Control ----------------------------------------------------------------------------------
    def start(self) -> EmulatorServer:
        """Bind (OSError, e.g. address in use, is raised here) and serve from a daemon thread."""
        if self._server is not None:
            return self
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets that say they are TCP
        # (without it every response waits ~40 ms for a delayed ACK).
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self._port))
        except OSError:
            sock.close()
            raise
        self._port = int(sock.getsockname()[1])
        self._socket = sock
        config = uvicorn.Config(
            EmulatorApp(self.state, self._transports),
            http=_protocol_class(self._transports),
            loop="auto",
            lifespan="off",  # nothing to start or stop; a forced exit then cancels nothing
            log_level="critical",
            access_log=False,
            timeout_graceful_shutdown=1,
            ws="none",
        )
        self._server = uvicorn.Server(config)
        server = self._server
        self._thread = threading.Thread(
            target=lambda: server.run(sockets=[sock]), name="loregate-emulator", daemon=True
        )
        self._thread.start()
        while not self._server.started:
            if not self._thread.is_alive():
                self.stop()
                raise RuntimeError(f"emulator failed to start on {self.host}:{self._port}")
            self._thread.join(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._server.force_exit = True
            self._thread.join(5)
        if self._socket is not None:
            self._socket.close()
        self._server = None
        self._thread = None
        self._socket = None

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def serve_forever(self) -> None:
        """Block until the server thread ends (Ctrl-C in the foreground command)."""
        self.start()
        assert self._thread is not None
        try:
            while self._thread.is_alive():
                self._thread.join(0.5)
        finally:
            self.stop()

    # What tests use ---------------------------------------------------------------------------
    @property
    def port(self) -> int:
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self._port}"

    @property
    def faults(self) -> FaultQueue:
        return self.state.faults

    @property
    def requests(self) -> list[RecordedRequest]:
        return self.state.requests

    def set_reply(self, model_prefix: str, text: str) -> None:
        self.state.set_reply(model_prefix, text)

    def set_responder(self, model_prefix: str, fn: Responder) -> None:
        self.state.set_responder(model_prefix, fn)

    def reset(self) -> None:
        """Forget requests, faults, scripted replies and cache entries (between tests)."""
        self.state.reset()
