"""The rollup's background refresher: a thread that folds the ledger in every ``interval_s``,
so a usage page finds the rollup current whatever the backlog was."""

from __future__ import annotations

import logging
import threading

from console.rollup import UsageRollup

log = logging.getLogger("loregate.console")


class RollupRefresher:
    def __init__(self, rollup: UsageRollup, interval_s: float = 30.0) -> None:
        self.rollup = rollup
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="console-rollup", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.rollup.refresh()
            except Exception:  # a database that is down now may be up at the next turn
                log.warning("the usage rollup could not be refreshed", exc_info=True)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
