"""A ``LedgerSink`` that hands a request's rows to the batched writer and to the request
journal (``gateway.journal``): the writer inserts them a few milliseconds later, the journal
makes them durable before the response, for replay after a crash.

It sits behind the redaction of the ledger's free text, so the journal only ever receives
rows free of personal data. The rows are built here, on the request's path (microseconds),
instead of on the writer's thread, so both receive the same rows.
"""

from __future__ import annotations

import orjson

from gateway.hooks import RequestFacts
from gateway.journal import JournalSink
from gateway.ledger.rows import ledger_values, pack
from gateway.ledger.writer import LedgerWriter

LEDGER = "ledger"


class JournaledLedger:
    def __init__(self, writer: LedgerWriter, journal: JournalSink) -> None:
        self.writer = writer
        self.journal = journal

    def record(self, facts: RequestFacts) -> None:
        values = ledger_values(facts)
        # Serialized once for both: the insert process's batch and the journal's line hold the
        # same JSON (each row an array of its values).
        packed = pack(values)
        self.writer.write_values(values, packed)  # first: a segment goes once the writer flushed
        self.journal.put(facts.ctx.request_id, LEDGER, {"rows": orjson.Fragment(packed)})

    async def aclose(self) -> None:
        await self.writer.aclose()
