"""The human review queue: answers the service could not give with confidence.

A question lands here when every tier answered weakly (or nothing could be searched). Reviewers
list the queue and approve the draft, reject it, or rewrite it. Every text (question, draft,
rewrite, note) passes through a ``Redactor`` before it is written: no personal data on disk.

Each item carries the ``answer_key`` of the ask that queued it (question, filters, access scope,
prompt version: ``retrieval.reviewed``). ``decision_for(key)`` is the latest decision on that
key: the answer service serves it back when it is an approval or a rewrite.

Metrics (prometheus, default registry): ``loregate_review_queued_total``,
``loregate_review_decisions_total{decision}``, ``loregate_review_pending``,
``loregate_review_rejection_ratio`` and ``loregate_review_rewrite_ratio`` (share of decided
items rejected / rewritten, recomputed from the table after each decision).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import sqlalchemy as sa
from prometheus_client import Counter, Gauge
from sqlalchemy import Engine

from governance.prompt_types import Redactor
from kernel.errors import ApiError, InvalidRequest, NotFound

Status = Literal["queued", "approved", "rejected", "rewritten"]
STATUSES: tuple[Status, ...] = ("queued", "approved", "rejected", "rewritten")
MAX_TEXT = 20_000

metadata = sa.MetaData()
review_table = sa.Table(
    "retrieval_review",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("reason", sa.String(200), nullable=False),
    sa.Column("question", sa.Text(), nullable=False),
    sa.Column("draft_answer", sa.Text(), nullable=False),
    sa.Column("passages", sa.JSON(), nullable=False),
    sa.Column("asker_user_id", sa.String(200), nullable=False),
    sa.Column("asker_department", sa.String(200), nullable=False),
    sa.Column("request_id", sa.String(128), nullable=False),
    sa.Column("prompt_version", sa.String(200), nullable=True),
    sa.Column("model", sa.String(200), nullable=True),
    sa.Column("reviewer", sa.String(200), nullable=True),
    sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("final_answer", sa.Text(), nullable=True),
    sa.Column("note", sa.Text(), nullable=True),
    sa.Column("answer_key", sa.String(64), nullable=True),
)
DECIDED: tuple[Status, ...] = ("approved", "rejected", "rewritten")
SERVED: tuple[Status, ...] = ("approved", "rewritten")

QUEUED = Counter("loregate_review_queued_total", "Questions put into the human review queue")
DECISIONS = Counter("loregate_review_decisions_total", "Reviewer decisions", ["decision"])
PENDING = Gauge(
    "loregate_review_pending", "Items waiting for a reviewer", multiprocess_mode="mostrecent"
)
REJECTION_RATIO = Gauge(
    "loregate_review_rejection_ratio",
    "Share of reviewed items that were rejected",
    multiprocess_mode="mostrecent",
)
REWRITE_RATIO = Gauge(
    "loregate_review_rewrite_ratio",
    "Share of reviewed items that were rewritten",
    multiprocess_mode="mostrecent",
)


class ReviewConflict(ApiError):
    code = "review_already_decided"
    status = 409


@dataclass(frozen=True)
class ReviewItem:
    id: str
    created_at: datetime
    status: str
    reason: str
    question: str
    draft_answer: str
    passages: list[dict[str, Any]]
    asker_user_id: str
    asker_department: str
    request_id: str
    prompt_version: str | None = None
    model: str | None = None
    reviewer: str | None = None
    decided_at: datetime | None = None
    final_answer: str | None = None
    note: str | None = None
    answer_key: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["created_at"] = self.created_at.isoformat()
        d["decided_at"] = self.decided_at.isoformat() if self.decided_at else None
        return d


@dataclass(frozen=True)
class ReviewStats:
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def decided(self) -> int:
        return sum(v for k, v in self.counts.items() if k != "queued")

    @property
    def rejection_rate(self) -> float:
        return self.counts.get("rejected", 0) / self.decided if self.decided else 0.0

    @property
    def rewrite_rate(self) -> float:
        return self.counts.get("rewritten", 0) / self.decided if self.decided else 0.0


def _utc(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:  # SQLite gives naive datetimes back
        return value.replace(tzinfo=UTC)
    return value


class ReviewQueue:
    def __init__(
        self,
        engine: Engine,
        redactor: Redactor,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.engine = engine
        self.redactor = redactor
        self.clock = clock

    def _r(self, text: str) -> str:
        return self.redactor.redact(text)

    def enqueue(
        self,
        *,
        question: str,
        draft_answer: str,
        reason: str,
        passages: list[dict[str, Any]],
        asker_user_id: str,
        asker_department: str = "",
        request_id: str = "",
        prompt_version: str | None = None,
        model: str | None = None,
        answer_key: str | None = None,
    ) -> str:
        item_id = uuid.uuid4().hex
        row = {
            "id": item_id,
            "created_at": self.clock(),
            "status": "queued",
            "reason": reason[:200],
            "question": self._r(question[:MAX_TEXT]),
            "draft_answer": self._r(draft_answer[:MAX_TEXT]),
            "passages": [{k: v for k, v in p.items() if k != "text"} for p in passages],
            "asker_user_id": asker_user_id,
            "asker_department": asker_department,
            "request_id": request_id,
            "prompt_version": prompt_version,
            "model": model,
            "answer_key": answer_key,
        }
        with self.engine.begin() as conn:
            conn.execute(review_table.insert().values(**row))
        QUEUED.inc()
        self._refresh_gauges()
        return item_id

    def list(
        self, status: str | None = "queued", limit: int = 50, offset: int = 0
    ) -> list[ReviewItem]:
        if status is not None and status not in STATUSES:
            raise InvalidRequest(f"status must be one of {', '.join(STATUSES)}, got {status!r}")
        if not 1 <= limit <= 500 or offset < 0:
            raise InvalidRequest("limit must be 1..500 and offset >= 0")
        q = sa.select(review_table).order_by(review_table.c.created_at, review_table.c.id)
        if status is not None:
            q = q.where(review_table.c.status == status)
        with self.engine.connect() as conn:
            rows = conn.execute(q.limit(limit).offset(offset)).mappings().all()
        return [self._item(r) for r in rows]

    def get(self, item_id: str) -> ReviewItem:
        with self.engine.connect() as conn:
            row = (
                conn.execute(sa.select(review_table).where(review_table.c.id == item_id))
                .mappings()
                .first()
            )
        if row is None:
            raise NotFound(f"no review item {item_id!r}")
        return self._item(row)

    def decision_for(self, answer_key: str) -> ReviewItem | None:
        """The latest decided item of ``answer_key`` (any decision: a rejection after an
        approval means the reviewers withdrew it), or ``None``."""
        t = review_table
        q = (
            sa.select(t)
            .where(t.c.answer_key == answer_key, t.c.status.in_(DECIDED))
            .order_by(t.c.decided_at.desc(), t.c.id.desc())
            .limit(1)
        )
        with self.engine.connect() as conn:
            row = conn.execute(q).mappings().first()
        return None if row is None else self._item(row)

    def approve(self, item_id: str, *, reviewer: str, note: str = "") -> ReviewItem:
        current = self.get(item_id)
        return self._decide(item_id, "approved", reviewer, current.draft_answer, note)

    def reject(self, item_id: str, *, reviewer: str, note: str = "") -> ReviewItem:
        return self._decide(item_id, "rejected", reviewer, None, note)

    def rewrite(self, item_id: str, *, reviewer: str, answer: str, note: str = "") -> ReviewItem:
        if not answer.strip():
            raise InvalidRequest("a rewrite needs the new answer text")
        if len(answer) > MAX_TEXT:
            raise InvalidRequest(f"the rewritten answer is longer than {MAX_TEXT} characters")
        return self._decide(item_id, "rewritten", reviewer, self._r(answer.strip()), note)

    def stats(self) -> ReviewStats:
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(review_table.c.status, sa.func.count()).group_by(review_table.c.status)
            ).all()
        return ReviewStats({str(s): int(n) for s, n in rows})

    def _decide(
        self, item_id: str, status: Status, reviewer: str, final: str | None, note: str
    ) -> ReviewItem:
        if len(note) > MAX_TEXT:
            raise InvalidRequest(f"the note is longer than {MAX_TEXT} characters")
        with self.engine.begin() as conn:
            # Only a queued item can be decided: the WHERE makes two racing reviewers safe.
            done = conn.execute(
                review_table.update()
                .where(review_table.c.id == item_id, review_table.c.status == "queued")
                .values(
                    status=status,
                    reviewer=reviewer,
                    decided_at=self.clock(),
                    final_answer=final,
                    note=self._r(note) if note else None,
                )
            ).rowcount
        if not done:
            current = self.get(item_id)  # NotFound when it does not exist
            raise ReviewConflict(
                f"review item {item_id} is already {current.status}",
                details={"status": current.status, "reviewer": current.reviewer},
            )
        DECISIONS.labels(decision=status).inc()
        self._refresh_gauges()
        return self.get(item_id)

    def _refresh_gauges(self) -> None:
        s = self.stats()
        PENDING.set(s.counts.get("queued", 0))
        REJECTION_RATIO.set(s.rejection_rate)
        REWRITE_RATIO.set(s.rewrite_rate)

    @staticmethod
    def _item(row: Any) -> ReviewItem:
        d = dict(row)
        d["created_at"] = _utc(d["created_at"])
        d["decided_at"] = _utc(d["decided_at"])
        return ReviewItem(**d)
