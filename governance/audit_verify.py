"""Verify the audit chain and name what was tampered with.

Walks the records in sequence order and checks, for each one:

- its own hashes (``content_hash`` of the payload, ``record_hash`` of prev + content): a
  mismatch means the record was **edited**;
- its link (``prev_hash`` equals the previous record's ``record_hash``). A broken link is
  classified by where the record's ``prev_hash`` points:
  - to a record further down the log: the records were **reordered**;
  - the next record links over it to the previous one: it was **inserted**;
  - nowhere, with a gap in the sequence numbers: records were **deleted**;
  - nowhere, without a gap: the previous record was **edited** (and rehashed), or, at the end
    of the log and not where the head says the chain ends, this record was **inserted**;
- finally the chain's end against the head row (and ``expect_head``, a head hash the operator
  noted earlier): records missing at the end were **deleted**, extra ones **inserted**.

Without a secret, someone who rewrites every hash after a change, head included, leaves a
consistent chain: keep the printed head hash somewhere else and pass it as ``expect_head``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from governance.audit import GENESIS, AuditEntry, AuditLog, chain_hash
from kernel.digest import sha256_hex

Kind = Literal["edited", "deleted", "inserted", "reordered"]


@dataclass(frozen=True)
class Problem:
    kind: Kind
    seq: int
    request_id: str
    message: str

    def as_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "seq": self.seq,
            "request_id": self.request_id,
            "message": self.message,
        }


@dataclass
class VerifyReport:
    records: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS
    last_hash: str = GENESIS
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "records": self.records,
            "head_seq": self.head_seq,
            "head_hash": self.head_hash,
            "problems": [p.as_dict() for p in self.problems],
        }


def verify(log: AuditLog, *, expect_head: str | None = None) -> VerifyReport:
    entries = list(log.entries())
    head_seq, head_hash = log.head()
    report = VerifyReport(records=len(entries), head_seq=head_seq, head_hash=head_hash)
    where = {e.record_hash: i for i, e in enumerate(entries)}
    followed = {e.prev_hash for e in entries}  # hashes some record chains to
    flagged: set[int] = set()

    def flag(i: int, kind: Kind, message: str) -> None:
        flagged.add(i)
        e = entries[i]
        report.problems.append(Problem(kind, e.seq, e.request_id, message))

    for i, e in enumerate(entries):
        if (
            sha256_hex(e.payload) != e.content_hash
            or chain_hash(e.prev_hash, e.content_hash) != e.record_hash
        ):
            flag(i, "edited", f"record #{e.seq} was edited: its content no longer matches its hash")
            continue
        prev: AuditEntry | None = entries[i - 1] if i else None
        expected = prev.record_hash if prev is not None else GENESIS
        if e.prev_hash == expected:
            continue
        target = where.get(e.prev_hash)
        nxt = entries[i + 1] if i + 1 < len(entries) else None
        if target is not None and target > i:
            flag(
                i,
                "reordered",
                f"record #{e.seq} was moved: it follows record #{entries[target].seq}, "
                "which now comes after it",
            )
        elif target is not None and target < i - 1:
            # Records skipped by the chain: inserted, unless another record follows them
            # (then they are only out of place, reported where the order breaks).
            between = [
                j
                for j in range(target + 1, i)
                if j not in flagged and entries[j].record_hash not in followed
            ]
            for j in between:
                flag(
                    j,
                    "inserted",
                    f"record #{entries[j].seq} was inserted: #{e.seq} follows "
                    f"#{entries[target].seq} directly",
                )
        elif nxt is not None and nxt.prev_hash == expected and e.record_hash not in followed:
            flag(
                i,
                "inserted",
                f"record #{e.seq} was inserted: it does not follow #{prev.seq if prev else 0}, "
                f"and #{nxt.seq} skips it",
            )
        elif prev is not None and e.seq > prev.seq + 1:
            flag(
                i,
                "deleted",
                f"record(s) #{prev.seq + 1}..#{e.seq - 1} were deleted: #{e.seq} follows a "
                "record that is gone",
            )
        elif e.prev_hash == GENESIS or (
            nxt is None and (e.seq, e.record_hash) != (head_seq, head_hash)
        ):
            flag(i, "inserted", f"record #{e.seq} was inserted: it chains to no record here")
        elif prev is not None and prev.seq not in {entries[j].seq for j in flagged}:
            j = i - 1
            flag(
                j,
                "edited",
                f"record #{prev.seq} was edited (and rehashed), or a record after it deleted: "
                f"#{e.seq} no longer follows it",
            )
        else:
            flag(i, "deleted", f"a record before #{e.seq} was deleted")

    report.last_hash = entries[-1].record_hash if entries else GENESIS
    last_seq = entries[-1].seq if entries else 0
    if last_seq < head_seq:
        report.problems.append(
            Problem(
                "deleted",
                last_seq + 1,
                "",
                f"record(s) #{last_seq + 1}..#{head_seq} at the end were deleted "
                f"(the head says the log ends at #{head_seq})",
            )
        )
    elif last_seq - head_seq > sum(p.kind == "inserted" for p in report.problems):
        e = entries[-1]
        report.problems.append(
            Problem(
                "inserted",
                e.seq,
                e.request_id,
                f"record(s) #{head_seq + 1}..#{last_seq} were inserted after the head "
                f"(#{head_seq})",
            )
        )
    elif entries and last_seq == head_seq and report.last_hash != head_hash and report.ok:
        e = entries[-1]
        report.problems.append(
            Problem("edited", e.seq, e.request_id, f"record #{e.seq} does not match the head")
        )
    if expect_head and expect_head not in where and expect_head != GENESIS:
        report.problems.append(
            Problem(
                "deleted",
                0,
                "",
                f"the expected head {expect_head[:16]}… is not in the log: the chain was "
                "rewritten or truncated",
            )
        )
    report.problems.sort(key=lambda p: p.seq)
    return report
