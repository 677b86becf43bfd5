"""Coroutines run to their end from worker threads, on the loop that owns the gateway.

The gateway's HTTP clients belong to the event loop they first ran on. Ingestion runs in
threads (the API's job thread, a queue worker, the CLI), and its chunk contexts are gateway
calls, so each call goes to one loop per process: the server's own (``bind``, at start-up),
or else a private loop on a daemon thread, started on first use and kept until ``close``.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class AsyncBridge:
    def __init__(self) -> None:
        self._bound: asyncio.AbstractEventLoop | None = None
        self._own: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Run on ``loop`` from now on (the server's, which owns the gateway's clients)."""
        self._bound = loop

    def unbind(self) -> None:
        self._bound = None

    @property
    def used_own_loop(self) -> bool:
        return self._own is not None

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """``coro``'s result (or its exception), waited for on this thread."""
        loop = self._bound or self._own_loop()
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            coro.close()
            raise RuntimeError("AsyncBridge.run was called on its own loop's thread")
        return asyncio.run_coroutine_threadsafe(coro, loop).result()

    def _own_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._own is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=loop.run_forever, name="loregate-async-bridge", daemon=True
                )
                thread.start()
                self._own, self._thread = loop, thread
            return self._own

    def close(self) -> None:
        """Stop the private loop, if one was started (after what ran on it was closed)."""
        with self._lock:
            loop, thread = self._own, self._thread
            self._own = self._thread = None
        if loop is not None and thread is not None:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=10)
            loop.close()
