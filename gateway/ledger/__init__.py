"""The cost ledger: table definition (``tables``), rows (``rows``) and writers (``writer``).

See ``gateway.ledger.tables`` for the column contract other packages read.
"""

from gateway.hooks import RequestFacts
from gateway.ledger.rows import LedgerRow, ledger_rows
from gateway.ledger.tables import LEDGER_TABLE, ledger, metadata
from gateway.ledger.writer import LedgerSink, LedgerWriter, MemoryLedger, NullLedger

__all__ = [
    "LEDGER_TABLE",
    "LedgerRow",
    "LedgerSink",
    "LedgerWriter",
    "MemoryLedger",
    "NullLedger",
    "RequestFacts",
    "ledger",
    "ledger_rows",
    "metadata",
]
