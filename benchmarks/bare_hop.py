"""The floor of a hop: an ASGI app that only forwards ``POST /v1/messages`` to the upstream.

`benchmarks/gateway_overhead.py` runs it on the same server as `loregate serve` (uvicorn,
uvloop, httptools) with loregate's own upstream client (``Http1Pool``), and measures it beside
the upstream direct and loregate: what it adds is what any Python ASGI hop on this stack costs
before doing anything of its own (no authentication, governance, ledger or audit), so the rest
of loregate's added time is loregate's.

    BARE_HOP_UPSTREAM=http://127.0.0.1:PORT uvicorn bare_hop:app --port 8001
"""

from __future__ import annotations

import os

from starlette.types import Receive, Scope, Send

from gateway.providers.http1_client import Http1Pool

_pool: Http1Pool | None = None


def pool() -> Http1Pool:
    global _pool
    if _pool is None:
        _pool = Http1Pool(
            os.environ["BARE_HOP_UPSTREAM"],
            headers={
                "content-type": "application/json",
                "anthropic-version": "2023-06-01",
                "x-api-key": os.environ.get("BARE_HOP_KEY", "bench"),  # the emulator's: any
            },
            limit=256,
            connect_timeout_s=10.0,
            read_timeout_s=30.0,
        )
    return _pool


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":  # lifespan: nothing to start
        message = await receive()
        while message["type"] != "lifespan.shutdown":
            await send({"type": message["type"] + ".complete"})
            message = await receive()
        await send({"type": "lifespan.shutdown.complete"})
        return
    body = b""
    more = True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    if scope["path"] != "/v1/messages":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})
        return
    response = await pool().post("/v1/messages", body)
    try:
        answer = await response.read()
    finally:
        response.release()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(answer))]
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": answer})
