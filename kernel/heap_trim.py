"""Freed heap memory given back to the system, every few seconds, in a serving process.

CPython allocates objects larger than 512 bytes (request and answer bodies, packed ledger rows
and audit records, journal lines) with the C library's ``malloc``. Under sustained load glibc
keeps what they freed in its arenas (one per thread that allocated) instead of returning it,
so the resident size of ``loregate serve`` grew with the load's peaks and never came back,
although the interpreter's own blocks and objects stayed flat (``benchmarks/gateway_overhead.py``:
+22 % between 10,000 and 100,000 requests at full speed, of which ``malloc_trim`` gave back all
but a few MiB). ``HeapTrim`` calls ``malloc_trim(0)`` on a daemon thread every ``interval_s``:
through ctypes, so without the interpreter lock, and only where glibc provides it (elsewhere,
musl or macOS, it does nothing).
"""

from __future__ import annotations

import ctypes
import logging
import threading
from collections.abc import Callable

log = logging.getLogger("kernel.heap_trim")


def glibc_malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or ``None`` where the C library has none. Looked up among the
    symbols the process already has loaded: ``ctypes.util.find_library`` would run
    ``ldconfig`` in a subprocess, at the import of every process that builds the app."""
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim  # type: ignore[no-any-return]


class HeapTrim:
    def __init__(self, interval_s: float = 2.0) -> None:
        self.interval_s = interval_s
        self._trim = glibc_malloc_trim()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def available(self) -> bool:
        return self._trim is not None

    def start(self) -> None:
        if self._trim is None or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="loregate-heap-trim", daemon=True)
        self._thread.start()

    def trim(self) -> bool:
        """Once, now: whether memory went back (``False`` also where there is no glibc)."""
        return self._trim is not None and bool(self._trim(0))

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.trim()
            except Exception:  # never let housekeeping take the process down
                log.exception("malloc_trim failed")
                return
