"""The request journal: durable before ``sync`` returns, held by its live process, replayed
only by another process into the same database, deleted once the writers flushed."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from gateway.journal import RequestJournal


def lines(path: Path) -> int:
    return path.read_bytes().count(b"\n")


def segments(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.jsonl"))


async def test_a_live_journal_is_nobodys_orphan_and_a_dead_one_is_replayed(tmp_path: Path) -> None:
    live = RequestJournal(tmp_path, checkpoint=lambda: False, database="db1")
    live.put("r1", "ledger", {"rows": [{"cost_nano_usd": 5}]})
    live.put("r1", "settlement", {"reservation": "rsv_1", "actual": 5})
    await live.sync()
    [segment] = segments(tmp_path)
    assert lines(segment) == 2  # on disk when sync returned

    other = RequestJournal(tmp_path, database="db1")
    assert other.orphans() == []  # its process is alive (it holds the lock)
    live.close()  # the writers did not flush (checkpoint False): kept, as after a crash
    assert segment in segments(tmp_path)

    stranger = RequestJournal(tmp_path, database="db2")
    assert stranger.orphans() == []  # another database's
    stranger.close()
    [orphan] = other.orphans()
    assert [e["kind"] for e in orphan.entries()] == ["ledger", "settlement"]
    other.discard(orphan)
    assert segment not in segments(tmp_path)
    other.close()
    assert segments(tmp_path) == []  # a clean stop deletes its own segments


async def test_rotation_deletes_what_the_writers_flushed(tmp_path: Path) -> None:
    flushed = {"ok": False}
    journal = RequestJournal(tmp_path, checkpoint=lambda: flushed["ok"], rotate_s=0.05)
    journal.put("r1", "ledger", {"rows": []})
    await journal.sync()

    await asyncio.sleep(0.3)
    assert len(segments(tmp_path)) == 2  # rotated, the old one kept: not flushed
    flushed["ok"] = True
    await asyncio.sleep(0.3)
    assert len(segments(tmp_path)) == 1  # only the live segment is left
    journal.close()


@pytest.mark.parametrize("fsync", ["interval", "always"])
async def test_every_line_put_before_sync_is_in_the_file_when_it_returns(
    tmp_path: Path, fsync: str
) -> None:
    journal = RequestJournal(
        tmp_path,
        checkpoint=lambda: False,
        database="db",
        fsync=fsync,  # type: ignore[arg-type]
    )
    [segment] = segments(tmp_path)
    for n in range(50):
        journal.put(f"r{n}", "ledger", {"rows": [{"n": n}]})
        if n % 7 == 0:
            await journal.sync()
            assert lines(segment) == n + 1  # a killed process could not lose them now
    await asyncio.gather(*(journal.sync() for _ in range(5)))
    assert lines(segment) == 50
    journal.put("late", "ledger", {"rows": []})  # put, never synced (a failed request)
    journal.close()  # a stop without a checkpoint keeps the segment, the late line in it
    other = RequestJournal(tmp_path, database="db")
    [orphan] = other.orphans()
    assert [e["rid"] for e in orphan.entries()][-2:] == ["r49", "late"]
    other.discard(orphan)
    other.close()
