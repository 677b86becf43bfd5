"""The journaled ledger: the rows a request journals are the rows its writer inserts, serialized
once for both (the journal's line embeds the insert process's bytes)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import orjson

from gateway.hooks import CallContext, RequestFacts
from gateway.journal import RequestJournal
from gateway.ledger.insert_process import pack_rows, unpack_rows
from gateway.ledger.journaled import JournaledLedger
from gateway.ledger.rows import LedgerRow, RowValues
from gateway.ledger.writer import LedgerWriter
from gateway.types import AttemptRecord, ModelRequest, Usage
from kernel.principal import Principal


class RecordingWriter:
    def __init__(self) -> None:
        self.calls: list[tuple[list[LedgerRow], bytes | None]] = []

    def write_values(self, values: Sequence[RowValues], packed: bytes) -> None:
        self.calls.append(([LedgerRow(*v) for v in values], packed))


def facts() -> RequestFacts:
    usage = Usage(input_tokens=12, output_tokens=7, cache_read_input_tokens=3)
    attempt = AttemptRecord(
        0, "haiku", "claude-haiku-4-5", "anthropic", usage, 0.0, 4.5, None, "ok",
        cost_nano_usd=1234,
    )  # fmt: skip
    ctx = CallContext(
        request_id="req-1",
        principal=Principal(user_id="ana", department="legal", key_id="lg_k1"),
        route="default",
        request=ModelRequest(model="default", messages=[{"role": "user", "content": "é"}]),
    )
    at = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)
    return RequestFacts(ctx, at, "default", 5.0, False, [attempt])


def journal_lines(folder: Path) -> list[bytes]:
    [segment] = sorted(folder.glob("*.jsonl"))
    return segment.read_bytes().splitlines()


async def test_the_journal_line_holds_the_bytes_the_writer_inserts(tmp_path: Path) -> None:
    writer = RecordingWriter()
    journal = RequestJournal(tmp_path, checkpoint=lambda: False, database="db")
    ledger = JournaledLedger(cast(LedgerWriter, writer), journal)
    ledger.record(facts())
    await journal.sync()
    journal.close()

    [(rows, packed)] = writer.calls
    assert [r.kind for r in rows] == ["request", "attempt"]
    assert packed == pack_rows(rows)
    [line] = journal_lines(tmp_path)
    entry: dict[str, Any] = orjson.loads(line)
    assert (entry["rid"], entry["kind"]) == ("req-1", "ledger")
    assert entry["data"]["rows"] == orjson.loads(packed)
    # read back as the replay and the insert process read them: the same rows again
    assert unpack_rows([orjson.dumps(entry["data"]["rows"])]) == rows
    assert rows[0].cost_nano_usd == 1234 and rows[0].cache_read_tokens == 3
