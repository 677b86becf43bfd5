"""The few ASGI primitives the emulator needs: read a body, send JSON or SSE, reset the socket."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import struct
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Transports = dict[tuple[str, int], asyncio.BaseTransport]


def header(scope: Scope, name: str) -> str | None:
    wanted = name.lower().encode()
    for key, value in scope.get("headers", []):
        if key.lower() == wanted:
            return bytes(value).decode("latin-1")
    return None


def all_headers(scope: Scope) -> dict[str, str]:
    return {
        bytes(k).decode("latin-1").lower(): bytes(v).decode("latin-1")
        for k, v in scope.get("headers", [])
    }


async def read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _raw_headers(headers: dict[str, str], content_type: str) -> list[tuple[bytes, bytes]]:
    raw = [(b"content-type", content_type.encode())]
    raw.extend((k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items())
    return raw


async def send_json(send: Send, status: int, body: Any, headers: dict[str, str]) -> None:
    payload = json.dumps(body, separators=(",", ":")).encode()
    raw = _raw_headers(headers, "application/json")
    raw.append((b"content-length", str(len(payload)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": payload, "more_body": False})


async def send_sse(send: Send, headers: dict[str, str], chunks: AsyncIterator[bytes]) -> None:
    """Stream server-sent events; ``chunks`` yields already-framed events."""
    raw = _raw_headers(headers, "text/event-stream; charset=utf-8")
    raw.append((b"cache-control", b"no-cache"))
    await send({"type": "http.response.start", "status": 200, "headers": raw})
    async for chunk in chunks:
        await send({"type": "http.response.body", "body": chunk, "more_body": True})
    await send({"type": "http.response.body", "body": b"", "more_body": False})


def sse_event(event: str | None, data: Any) -> bytes:
    text = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    prefix = f"event: {event}\n" if event else ""
    return f"{prefix}data: {text}\n\n".encode()


async def reset_connection(scope: Scope, transports: Transports) -> None:
    """Abort the client's TCP connection with an RST (SO_LINGER 0), sending nothing."""
    client = scope.get("client")
    transport = transports.get((client[0], client[1])) if client else None
    if transport is None:  # pragma: no cover - only when the protocol hook is missing
        raise RuntimeError("emulator: no transport recorded for this connection")
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):  # a platform without SO_LINGER: a plain close
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    if isinstance(transport, asyncio.Transport):
        transport.abort()
    else:  # pragma: no cover
        transport.close()
    # Let the server see the connection drop, so it does not try to answer on a closed socket.
    for _ in range(3):
        await asyncio.sleep(0)


async def send_truncated_json(
    scope: Scope, send: Send, transports: Transports, body: Any, headers: dict[str, str]
) -> None:
    """HTTP 200 with a Content-Length, half the body, then a reset: a response cut short."""
    payload = json.dumps(body, separators=(",", ":")).encode()
    raw = _raw_headers(headers, "application/json")
    raw.append((b"content-length", str(len(payload)).encode()))
    await send({"type": "http.response.start", "status": 200, "headers": raw})
    await send(
        {"type": "http.response.body", "body": payload[: len(payload) // 2], "more_body": True}
    )
    await asyncio.sleep(0.01)
    await reset_connection(scope, transports)
