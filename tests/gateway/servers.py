"""loregate's app served by uvicorn on 127.0.0.1 in a thread (wire tests and shutdown tests)."""

from __future__ import annotations

import threading
from types import TracebackType

import uvicorn
from fastapi import FastAPI


class ServedApp:
    def __init__(self, app: FastAPI, *, graceful_s: float = 10.0) -> None:
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=0,
            log_level="critical",
            access_log=False,
            lifespan="on",
            loop="asyncio",
            ws="none",
            timeout_graceful_shutdown=graceful_s,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="loregate-test", daemon=True)
        self.port = 0

    def __enter__(self) -> ServedApp:
        self.thread.start()
        while not self.server.started:
            if not self.thread.is_alive():
                raise RuntimeError("loregate failed to start")
            self.thread.join(0.01)
        self.port = int(self.server.servers[0].sockets[0].getsockname()[1])
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        """A clean stop: in-flight requests finish, then the app's shutdown runs."""
        self.server.should_exit = True
        self.thread.join(30)

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
