"""Start-up recovery: what dead processes left in the request journal is written now."""

from __future__ import annotations

from gateway.journal import NullJournal
from loregate.graph import Loregate


def replay_journal(graph: Loregate) -> str | None:
    """Write what dead processes' journals hold and their writers had not (see
    ``governance.journal_replay``); a summary, or ``None`` when there was nothing."""
    journal = graph.journal
    if isinstance(journal, NullJournal):
        return None
    orphans = journal.orphans()
    if not orphans:
        return None
    from governance.journal_replay import replay

    p = graph.governance_parts
    entries = [e for o in orphans for e in o.entries()]
    report = replay(
        entries, engine=graph.engine, counter=p.counter, budgets=p.budgets, audit=p.audit
    )
    for orphan in orphans:
        journal.discard(orphan)
    return str(report)
