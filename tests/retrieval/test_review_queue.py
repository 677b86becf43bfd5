"""The human review queue on SQLite and PostgreSQL: decisions, conflicts, redaction, metrics."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from prometheus_client import REGISTRY

from kernel.errors import InvalidRequest, NotFound
from loregate.database import make_engine, migrate
from retrieval.review import ReviewConflict, ReviewQueue, review_table


class MaskDigits:
    def redact(self, text: str) -> str:
        return "".join("#" if ch.isdigit() else ch for ch in text)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def queue(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[ReviewQueue]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'review.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    migrate(engine)
    yield ReviewQueue(engine, MaskDigits())
    engine.dispose()


def enqueue(q: ReviewQueue, question: str = "Call me at 555 0100?") -> str:
    return q.enqueue(
        question=question,
        draft_answer="Maybe 42 days.",
        reason="no_confident_answer: no_citation",
        passages=[{"n": 1, "chunk_id": "c1", "title": "T", "text": "secret body"}],
        asker_user_id="u1",
        asker_department="hr",
        request_id="req-1",
        prompt_version="answer@abc",
        model="claude-haiku-4-5",
    )


def metric(name: str, labels: dict[str, str] | None = None) -> float:
    value = REGISTRY.get_sample_value(name, labels or {})
    return 0.0 if value is None else value


def test_enqueue_redacts_and_keeps_no_passage_text(queue: ReviewQueue) -> None:
    item = queue.get(enqueue(queue))
    assert item.status == "queued"
    assert item.question == "Call me at ### ####?"
    assert item.draft_answer == "Maybe ## days."
    assert item.passages == [{"n": 1, "chunk_id": "c1", "title": "T"}]
    with queue.engine.connect() as conn:
        stored = conn.execute(sa.select(review_table.c.question)).scalar_one()
    assert "555" not in stored


def test_decisions_update_rows_and_metrics(queue: ReviewQueue) -> None:
    before = {
        d: metric("loregate_review_decisions_total", {"decision": d})
        for d in ("approved", "rejected", "rewritten")
    }
    a, b, c, d = (enqueue(queue) for _ in range(4))
    approved = queue.approve(a, reviewer="rev", note="fine")
    assert (approved.status, approved.final_answer, approved.reviewer) == (
        "approved",
        "Maybe ## days.",
        "rev",
    )
    queue.reject(b, reviewer="rev", note="wrong")
    rewritten = queue.rewrite(c, reviewer="rev", answer="It is 25 days [1].")
    assert rewritten.final_answer == "It is ## days [#]."
    assert rewritten.decided_at is not None and rewritten.decided_at.tzinfo is not None
    stats = queue.stats()
    assert stats.counts == {"approved": 1, "rejected": 1, "rewritten": 1, "queued": 1}
    assert stats.rejection_rate == pytest.approx(1 / 3)
    assert stats.rewrite_rate == pytest.approx(1 / 3)
    assert metric("loregate_review_rejection_ratio") == pytest.approx(1 / 3)
    assert metric("loregate_review_rewrite_ratio") == pytest.approx(1 / 3)
    assert metric("loregate_review_pending") == 1
    for decision in ("approved", "rejected", "rewritten"):
        assert metric("loregate_review_decisions_total", {"decision": decision}) == (
            before[decision] + 1
        )
    assert [i.id for i in queue.list("queued")] == [d]
    assert len(queue.list(None)) == 4


def test_a_decided_item_cannot_be_decided_again(queue: ReviewQueue) -> None:
    item = enqueue(queue)
    queue.reject(item, reviewer="r1")
    with pytest.raises(ReviewConflict, match="already rejected") as info:
        queue.approve(item, reviewer="r2")
    assert info.value.status == 409
    assert queue.get(item).reviewer == "r1"


def test_bad_input_is_refused_and_nothing_changes(queue: ReviewQueue) -> None:
    item = enqueue(queue)
    with pytest.raises(NotFound):
        queue.approve("nope", reviewer="r")
    with pytest.raises(InvalidRequest, match="new answer"):
        queue.rewrite(item, reviewer="r", answer="   ")
    with pytest.raises(InvalidRequest, match="status must be"):
        queue.list("pending")
    with pytest.raises(InvalidRequest, match="limit"):
        queue.list("queued", limit=0)
    assert queue.get(item).status == "queued"
