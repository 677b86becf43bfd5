"""Work a request leaves for after its response: what no answer waits for.

A request's bookkeeping is of two kinds. What must hold before the client hears back (the
budget's settlement, the ledger's rows and the journal line that makes them durable) stays on
the request's path. What only observes the request (its metrics and its audit record, neither
journaled nor read by the answer) can run once the response is on the wire: a caller that
sends its next request at once then finds the loop free for it.

An HTTP endpoint opens a ``Deferred`` around the call and has its response run it once the
last body byte is sent, or the sending failed (``gateway.http.common.DeferringResponse``);
code called outside one (the answer service, MCP tools, tests) gets every ``later(fn)`` run at
once, exactly as before. A call that raises runs what it deferred before the error leaves the
block.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextvars import ContextVar
from types import TracebackType

log = logging.getLogger("kernel.after_response")

_collector: ContextVar[Deferred | None] = ContextVar("loregate_after_response", default=None)


def later(fn: Callable[[], None]) -> None:
    """Run ``fn`` after the response when an endpoint collects deferred work, else now (also
    in a task that outlived its request: its copy of the context still names the collector,
    whose work already ran)."""
    deferred = _collector.get()
    if deferred is None or deferred.done:
        fn()
    else:
        deferred.pending.append(fn)


class Deferred:
    """``with Deferred() as deferred:`` collects what ``later`` is given inside the block."""

    def __init__(self) -> None:
        self.pending: list[Callable[[], None]] = []
        self.done = False
        self._token: object = None

    def __enter__(self) -> Deferred:
        self._token = _collector.set(self)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        _collector.reset(self._token)  # type: ignore[arg-type]
        if exc is not None:  # no response will run it
            self.run_now()

    def run_now(self) -> None:
        self.done = True
        pending, self.pending = self.pending, []
        for fn in pending:
            try:
                fn()
            except Exception:  # one observer's failure must not stop the others
                log.exception("deferred work failed")
