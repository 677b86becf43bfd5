"""The audit log: append-only, hash-chained records of every gateway request.

Each record is the canonical JSON of what happened (principal, route, models tried, prompt and
routing versions, the redacted request and response, cost, outcome), stored with:

    content_hash = sha256(canonical JSON)
    prev_hash    = record_hash of the record before it (64 zeros for the first)
    record_hash  = sha256(prev_hash + content_hash)

Appends are serialised through the one-row ``governance_audit_head`` table (its row lock on
PostgreSQL, the write lock on SQLite), so concurrent writers in several processes still build
one chain. The database refuses UPDATE and DELETE on the log (triggers, see the migration);
``audit_verify`` finds whatever was changed anyway.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, func, insert, select, update

from governance.tables import GENESIS_HASH, audit_head, audit_log
from kernel.digest import canonical_json, sha256_hex
from kernel.errors import InvalidRequest, NotFound


def chain_hash(prev_hash: str, content_hash: str) -> str:
    return sha256_hex(prev_hash + content_hash)


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    request_id: str
    created_at: datetime
    payload: str
    content_hash: str
    prev_hash: str
    record_hash: str

    @property
    def record(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.payload)
        return data


def _entry(row: Any) -> AuditEntry:
    created = row.created_at
    if created.tzinfo is None:
        created = created.replace(tzinfo=UTC)
    return AuditEntry(
        seq=int(row.seq),
        request_id=row.request_id,
        created_at=created,
        payload=row.payload,
        content_hash=row.content_hash,
        prev_hash=row.prev_hash,
        record_hash=row.record_hash,
    )


class AuditLog:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def append(self, records: Sequence[tuple[str, datetime, dict[str, Any]]]) -> list[int]:
        """Append (request id, time, payload) records as one transaction; returns their seqs."""
        if not records:
            return []
        n = len(records)
        with self.engine.begin() as conn:
            # The first write takes the lock that serialises appenders.
            conn.execute(
                update(audit_head).where(audit_head.c.id == 1).values(seq=audit_head.c.seq + n)
            )
            head = conn.execute(
                select(audit_head.c.seq, audit_head.c.record_hash).where(audit_head.c.id == 1)
            ).one()
            seq = int(head.seq) - n
            prev = str(head.record_hash)
            rows: list[dict[str, Any]] = []
            for request_id, created_at, payload in records:
                seq += 1
                body = canonical_json(payload)
                content = sha256_hex(body)
                record = chain_hash(prev, content)
                rows.append(
                    {
                        "seq": seq,
                        "request_id": request_id,
                        "created_at": created_at.astimezone(UTC),
                        "payload": body,
                        "content_hash": content,
                        "prev_hash": prev,
                        "record_hash": record,
                    }
                )
                prev = record
            conn.execute(insert(audit_log), rows)
            conn.execute(update(audit_head).where(audit_head.c.id == 1).values(record_hash=prev))
        return [int(r["seq"]) for r in rows]

    def head(self) -> tuple[int, str]:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(audit_head.c.seq, audit_head.c.record_hash).where(audit_head.c.id == 1)
            ).one()
        return int(row.seq), str(row.record_hash)

    def count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(audit_log)).scalar_one())

    def get(self, ident: str | int) -> AuditEntry:
        """A record by sequence number or request id (the latest record of that request)."""
        text = str(ident).strip()
        if not text:
            raise InvalidRequest("name an audit record by its number or request id")
        query = select(audit_log)
        if text.isdigit():
            query = query.where(audit_log.c.seq == int(text))
        else:
            query = query.where(audit_log.c.request_id == text).order_by(audit_log.c.seq.desc())
        with self.engine.connect() as conn:
            row = conn.execute(query.limit(1)).first()
        if row is None:
            raise NotFound(f"no audit record {text!r}", details={"record": text})
        return _entry(row)

    def entries(self, *, after: int = 0, batch: int = 1000) -> Iterator[AuditEntry]:
        """Every record in sequence order (read in batches)."""
        last = after
        while True:
            with self.engine.connect() as conn:
                rows = conn.execute(
                    select(audit_log)
                    .where(audit_log.c.seq > last)
                    .order_by(audit_log.c.seq)
                    .limit(batch)
                ).all()
            if not rows:
                return
            for row in rows:
                entry = _entry(row)
                last = entry.seq
                yield entry

    def recent(self, limit: int = 20) -> list[AuditEntry]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(audit_log).order_by(audit_log.c.seq.desc()).limit(limit)
            ).all()
        return [_entry(r) for r in rows]


GENESIS = GENESIS_HASH
