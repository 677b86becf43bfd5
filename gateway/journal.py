"""The request journal: a durable hand-off, before the response, of what a finished request
leaves to the background writers (its ledger rows, its budget settlement), so that a process
killed with SIGKILL or by the OOM killer loses none of it.

The ledger, budget and audit writers batch in memory, off the request's path; a clean stop
flushes them, a kill does not. So each request's PII-free facts are also appended, as JSON
lines, to this process's journal segment before the gateway returns (``sync``). How far
"durable" goes is ``fsync`` (as Redis's ``appendfsync``):

- ``interval`` (the default): ``sync`` writes the pending lines into the file on the caller's
  thread (the kernel's page cache, a few microseconds: a killed process cannot lose them, only
  a crash of the machine can) and a background thread ``fdatasync``-s once a second;
- ``always``: ``sync`` returns once the lines are ``fdatasync``-ed by the background thread,
  one flush for every request waiting at that moment (group commit, 0.1-0.3 ms per flush on
  this kind of disk, added to every response), so a power cut loses nothing either.

What is journaled is handed over already free of personal data (the ledger's rows after the
redaction of their free text, a settlement's ids and amounts): nothing here reads or writes a
prompt. Callers ``put`` what they have after handing the same facts to their background
writer, and the gateway calls ``sync`` once per request.

Segments: ``<folder>/<database>-<host>-<pid>-<token>-<n>.jsonl`` (``<database>``: a hash of
the database URL, so a segment is only ever replayed into the database it was written for),
each held under an exclusive ``flock`` by the process writing it. Every ``rotate_s`` a new
segment starts; the old ones are deleted once ``checkpoint()`` (flush the ledger, budget and
audit writers) says everything handed to them before the rotation is written. A segment no
live process holds is an orphan: ``orphans`` takes it (its lock) at start-up for replay,
``discard`` deletes it once replayed.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal, Protocol

import orjson

from kernel.digest import sha256_hex

log = logging.getLogger("gateway.journal")

Fsync = Literal["interval", "always"]


class JournalSink(Protocol):
    def put(self, request_id: str, kind: str, data: dict[str, Any]) -> None:
        """Accept one PII-free record of a request (never blocks on I/O)."""
        ...

    async def sync(self) -> None:
        """Return once everything ``put`` so far is on disk."""
        ...


class NullJournal:
    def put(self, request_id: str, kind: str, data: dict[str, Any]) -> None:
        return None

    async def sync(self) -> None:
        return None

    def close(self) -> None:
        return None


@dataclass
class _Segment:
    path: Path
    file: IO[bytes]
    entries: int = 0


@dataclass
class Orphan:
    """A dead process's segment, locked by this process until ``discard``."""

    path: Path
    file: IO[bytes]

    def entries(self) -> Iterator[dict[str, Any]]:
        for line in self.path.read_bytes().splitlines():
            try:
                yield json.loads(line)
            except ValueError:  # the last line of a process killed mid-write
                log.warning("journal %s: skipping a torn line", self.path.name)


class RequestJournal:
    def __init__(
        self,
        folder: Path,
        *,
        checkpoint: Callable[[], bool] | None = None,
        rotate_s: float = 10.0,
        database: str = "",
        fsync: Fsync = "interval",
        fsync_interval_s: float = 1.0,
    ) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.checkpoint = checkpoint or (lambda: True)
        self.rotate_s = rotate_s
        self.fsync = fsync
        self.fsync_interval_s = fsync_interval_s
        self.failures = 0
        # one journal per graph: several may live in one process (tests, tools)
        self._db = sha256_hex(database)[:12]  # replayed only into the database it was for
        self._name = f"{self._db}-{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"
        self._n = 0
        # The condition's own lock, taken directly where nothing waits or is notified: a
        # ``Condition``'s ``with`` is two Python calls more, on every request.
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._pending: list[bytes] = []
        self._put_seq = 0
        self._synced_seq = 0
        self._waiters: list[tuple[int, asyncio.AbstractEventLoop, asyncio.Future[None]]] = []
        self._closed: list[_Segment] = []
        self._stopping = False
        self._segment = self._open_segment()
        self._thread = threading.Thread(target=self._run, name="loregate-journal", daemon=True)
        self._thread.start()

    # Producer side (the event loop) -----------------------------------------------------------
    def put(self, request_id: str, kind: str, data: dict[str, Any]) -> None:
        line = orjson.dumps(
            {"rid": request_id, "kind": kind, "data": data},
            default=str,
            option=orjson.OPT_APPEND_NEWLINE,
        )
        with self._lock:  # no wake-up: written when ``sync`` asks (once per request)
            self._pending.append(line)
            self._put_seq += 1

    async def sync(self) -> None:
        if self.fsync == "interval":
            with self._lock:  # held while writing: a rotation never closes the file under it
                self._write_pending(flush=False)
            return
        with self._cond:
            target = self._put_seq
            if self._synced_seq >= target or self._stopping or not self._thread.is_alive():
                return  # (a dead writer thread has logged why: never hang a response on it)
            loop = asyncio.get_running_loop()
            future: asyncio.Future[None] = loop.create_future()
            self._waiters.append((target, loop, future))
            self._cond.notify()
        await future

    # Writer thread ----------------------------------------------------------------------------
    def _open_segment(self) -> _Segment:
        self._n += 1
        path = self.folder / f"{self._name}-{self._n}.jsonl"
        file = path.open("ab")
        fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        return _Segment(path, file)

    def _run(self) -> None:
        """``always``: write and ``fdatasync`` whenever a ``sync`` waits; ``interval``:
        ``fdatasync`` what ``sync`` wrote every ``fsync_interval_s``. Both rotate on time."""
        always = self.fsync == "always"
        wait_s = self.rotate_s if always else min(self.fsync_interval_s, self.rotate_s)
        next_rotation = _monotonic() + self.rotate_s
        while True:
            with self._cond:
                while not self._stopping and (not always or not self._waiters):
                    if not self._cond.wait(timeout=wait_s) or not always:
                        break
                stopping = self._stopping
                # What was put but never synced (a request that failed between the two) is
                # written here too, so that a stop never leaves a line only in memory.
                if always:
                    seq, lines = self._put_seq, self._pending
                    self._pending = []
                else:  # as ``sync`` writes, under the lock: the same order on disk
                    self._write_pending(flush=False)
                    seq, lines = self._synced_seq, []
                fd = self._segment.file.fileno()
            if lines:  # outside the lock: ``put`` never waits for the disk
                self._write(lines, flush=True)  # (only this thread rotates in this mode)
            with self._cond:
                self._synced_seq = max(self._synced_seq, seq)
                ready = [w for w in self._waiters if w[0] <= seq]
                self._waiters = [w for w in self._waiters if w[0] > seq]
            for _, loop, future in ready:
                loop.call_soon_threadsafe(_resolve, future)
            if not always:
                _fdatasync(fd)  # outside the lock: requests keep writing meanwhile
            if stopping:
                return
            if _monotonic() >= next_rotation:
                next_rotation = _monotonic() + self.rotate_s
                with self._cond:  # ``sync`` writes under the lock: never into a closed file
                    old = self._new_segment()
                if old is not None:
                    _fdatasync(old)
                self._retire()

    def _write_pending(self, *, flush: bool) -> None:
        """Append what ``put`` left (the caller holds the lock); ``fdatasync`` if asked."""
        seq = self._put_seq
        if self._pending:
            lines, self._pending = self._pending, []
            self._write(lines, flush=flush)
        self._synced_seq = seq

    def _write(self, lines: list[bytes], *, flush: bool) -> None:
        seg = self._segment
        data = memoryview(b"".join(lines))
        try:
            fd = seg.file.fileno()
            while data:
                data = data[os.write(fd, data) :]
            if flush:
                os.fdatasync(fd)
            seg.entries += len(lines)
        except OSError:  # the answer is out already: say so loudly, keep serving
            self.failures += 1
            log.exception("journal: could not write %d records to %s", len(lines), seg.path)

    def _new_segment(self) -> int | None:
        """Start a new segment if the current one has entries; the old one's descriptor."""
        if not self._segment.entries:
            return None
        try:
            fresh = self._open_segment()
        except OSError:  # keep appending to the current one
            self.failures += 1
            log.exception("journal: could not start a new segment in %s", self.folder)
            return None
        old = self._segment
        self._closed.append(old)
        self._segment = fresh
        return old.file.fileno()

    def _retire(self) -> None:
        """Delete the closed segments once the background writers have written them."""
        if not self._closed:
            return
        done, self._closed = self._closed, []
        try:
            flushed = self.checkpoint()
        except Exception:
            log.exception("journal: checkpoint failed")
            flushed = False
        if not flushed:  # a writer is behind (database down): keep the segments
            self._closed = done + self._closed
            return
        for seg in done:
            _remove(seg.path, seg.file)

    def close(self) -> None:
        """Stop; after a clean stop (the writers flushed first) the segments are deleted."""
        with self._cond:
            self._stopping = True
            self._cond.notify()
        self._thread.join(timeout=10)
        self._closed.append(self._segment)
        try:
            flushed = self.checkpoint()
        except Exception:
            flushed = False
        for seg in self._closed:
            if flushed:
                _remove(seg.path, seg.file)
            else:
                seg.file.close()  # kept on disk: the next start replays it

    # Recovery ---------------------------------------------------------------------------------
    def orphans(self) -> list[Orphan]:
        """Segments no live process holds (left by a crash), locked for this process."""
        found: list[Orphan] = []
        mine = {self._segment.path, *(s.path for s in self._closed)}
        for path in sorted(self.folder.glob(f"{self._db}-*.jsonl")):
            if path in mine:
                continue
            file = path.open("rb")
            try:
                fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:  # a live process's
                file.close()
                continue
            found.append(Orphan(path, file))
        return found

    @staticmethod
    def discard(orphan: Orphan) -> None:
        _remove(orphan.path, orphan.file)


def _remove(path: Path, file: IO[bytes]) -> None:
    try:
        path.unlink(missing_ok=True)
    finally:
        file.close()


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _fdatasync(fd: int) -> None:
    try:
        os.fdatasync(fd)
    except OSError:  # retired and closed meanwhile: written to the database already
        log.debug("journal: fdatasync of a retired segment skipped")


def _monotonic() -> float:
    return time.monotonic()
