"""The rollup's background refresher: a thread that folds the ledger in every ``interval_s``,
so a usage page finds the rollup current whatever the backlog was.

With a ``RollupProcess`` (what ``loregate serve`` wires), each refresh runs in that child
process and the thread only waits for it, without the interpreter lock; if the child is gone,
the thread folds this turn itself (the next turn starts a new child).
"""

from __future__ import annotations

import logging
import threading

from console.rollup import UsageRollup
from console.rollup_process import RollupProcess
from kernel.child_worker import ChildFailed

log = logging.getLogger("loregate.console")


class RollupRefresher:
    def __init__(
        self,
        rollup: UsageRollup,
        interval_s: float = 30.0,
        *,
        process: RollupProcess | None = None,
    ) -> None:
        self.rollup = rollup
        self.interval_s = interval_s
        self.process = process
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="console-rollup", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        if self.process is not None:  # spawned beside the server's start-up, not mid-load
            try:
                self.process.child.start()
            except ChildFailed:  # the first refresh says so again, and folds here
                log.warning("the rollup process did not start", exc_info=True)
        while not self._stop.wait(self.interval_s):
            try:
                self.refresh()
            except Exception:  # a database that is down now may be up at the next turn
                log.warning("the usage rollup could not be refreshed", exc_info=True)

    def refresh(self) -> int:
        """One refresh, in the child process if there is one; the ledger ids passed."""
        if self.process is not None:
            try:
                return self.process.refresh()
            except ChildFailed:
                log.warning("the rollup process failed; folding in this process", exc_info=True)
        return self.rollup.refresh()

    def close(self) -> None:
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout=10)
            if thread.is_alive():  # a long refresh under way: it ends with the process (daemons)
                log.warning("the usage rollup's refresh was still running at shutdown")
                return
        if self.process is not None:
            self.process.close()
