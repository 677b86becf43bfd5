"""Where reviewed answers live and how they are found: the answer key, the review table's
``answer_key`` column (migration retrieval_0002, SQLite and PostgreSQL), ``decision_for``, and
the HTTP flow (a reviewer's rewrite, then ``POST /v1/ask``) against the wire emulator."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from alembic import command
from fastapi import FastAPI, Request

from governance.redaction import NullRedactor
from kernel.errors import AuthenticationError
from kernel.principal import Principal, Role
from loregate.database import alembic_config, make_engine, migrate
from loregate.errors_http import install_error_handlers
from retrieval.answer_types import AskFilters
from retrieval.api import build_router
from retrieval.review import ReviewQueue
from retrieval.reviewed import answer_key
from retrieval.sparse import SparseEncoder
from testkit.embedders import FakeEmbedder
from testkit.emulator import EmulatorServer
from tests.retrieval.helpers import LEGAL
from tests.retrieval.wire import WireRig, corpus_store

Q = "How much notice to terminate this Agreement for convenience?"
SCOPE = LEGAL.access_tokens()
NONE = AskFilters()


def test_the_key_normalises_the_question_and_orders_the_scope() -> None:
    key = answer_key(Q, NONE, SCOPE, "answer@abc")
    assert key == answer_key(
        "  how much NOTICE to terminate this agreement for convenience ", NONE, SCOPE, "answer@abc"
    )
    assert key == answer_key(Q, NONE, list(reversed(SCOPE)) + SCOPE[:1], "answer@abc")
    assert len(key) == 64 and int(key, 16) >= 0


@pytest.mark.parametrize(
    "other",
    [
        answer_key("How much notice to terminate for cause?", NONE, SCOPE, "answer@abc"),
        answer_key(Q, AskFilters(doc_types=["contract"]), SCOPE, "answer@abc"),
        answer_key(Q, NONE, [*SCOPE, "group:m-and-a"], "answer@abc"),
        answer_key(
            Q, NONE, Principal(user_id="larry", department="legal").access_tokens(), "answer@abc"
        ),
        answer_key(Q, NONE, SCOPE, "answer@def"),
    ],
)
def test_the_key_differs_by_question_filters_scope_and_prompt_version(other: str) -> None:
    assert other != answer_key(Q, NONE, SCOPE, "answer@abc")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sa.Engine]:
    url = (
        f"sqlite:///{tmp_path / 'review.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    engine = make_engine(url)
    migrate(engine)
    yield engine
    engine.dispose()


def enqueue(q: ReviewQueue, key: str | None) -> str:
    return q.enqueue(
        question=Q,
        draft_answer="Probably ninety days.",
        reason="no_confident_answer: no_citation",
        passages=[],
        asker_user_id="lena",
        asker_department="legal",
        answer_key=key,
    )


def test_decision_for_is_the_latest_decision_of_the_key(engine_url: sa.Engine) -> None:
    times = iter(f"2026-06-0{d}T10:00:00+00:00" for d in range(1, 10))
    q = ReviewQueue(engine_url, NullRedactor(), clock=lambda: datetime.fromisoformat(next(times)))
    k1, k2 = "a" * 64, "b" * 64
    a, b, c, other = enqueue(q, k1), enqueue(q, k1), enqueue(q, k1), enqueue(q, k2)
    enqueue(q, None)
    assert q.decision_for(k1) is None  # queued items are not decisions
    q.approve(a, reviewer="rita")
    assert q.get(a).answer_key == k1
    found = q.decision_for(k1)
    assert found is not None and (found.id, found.status, found.final_answer) == (
        a,
        "approved",
        "Probably ninety days.",
    )
    q.reject(b, reviewer="ravi")
    rejected = q.decision_for(k1)
    assert rejected is not None and (rejected.id, rejected.status) == (b, "rejected")
    q.rewrite(c, reviewer="rita", answer="Ninety days [1].")
    latest = q.decision_for(k1)
    assert latest is not None and (latest.id, latest.status) == (c, "rewritten")
    assert q.decision_for(k2) is None and other
    assert q.decision_for("c" * 64) is None


def test_the_migration_adds_the_column_and_goes_back_down(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    migrate(engine)
    columns = {c["name"] for c in sa.inspect(engine).get_columns("retrieval_review")}
    assert "answer_key" in columns
    indexes = {i["name"] for i in sa.inspect(engine).get_indexes("retrieval_review")}
    assert "ix_retrieval_review_answer_key" in indexes
    command.downgrade(alembic_config(engine), "retrieval_0001")
    columns = {c["name"] for c in sa.inspect(engine).get_columns("retrieval_review")}
    assert "answer_key" not in columns and "final_answer" in columns
    migrate(engine)
    assert "answer_key" in {c["name"] for c in sa.inspect(engine).get_columns("retrieval_review")}
    engine.dispose()


# Over HTTP ---------------------------------------------------------------------------------------
REVIEWER = Principal(user_id="rita", role=Role.REVIEWER)
KEYS = {"legal": LEGAL, "reviewer": REVIEWER}


async def by_key(request: Request) -> Principal:
    key = request.headers.get("x-api-key", "")
    if key not in KEYS:
        raise AuthenticationError("invalid API key")
    return KEYS[key]


def uncited(_body: dict[str, Any]) -> str:
    return "Probably ninety days."


@pytest.fixture
async def client(
    emu: EmulatorServer,
    tmp_path: Path,
    fake_embedder: FakeEmbedder,
    sparse_encoder: SparseEncoder,
    engine: Any,
) -> AsyncIterator[tuple[httpx.AsyncClient, WireRig]]:
    for m in ("claude-haiku-4-5", "claude-sonnet-4-6", "claude-opus-4-8"):
        emu.set_responder(m, uncited)
    store = corpus_store("edge", tmp_path, fake_embedder, sparse_encoder)
    rig = WireRig(emu, store, fake_embedder, sparse_encoder, engine)
    app = FastAPI()
    install_error_handlers(app, [])
    app.include_router(build_router(rig.service, rig.review, by_key))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c, rig
    await rig.aclose()
    store.close()


@pytest.mark.wire
async def test_a_rewrite_over_http_answers_the_next_ask(client: Any) -> None:
    http, rig = client
    legal, reviewer = {"x-api-key": "legal"}, {"x-api-key": "reviewer"}
    first = (await http.post("/v1/ask", json={"question": Q}, headers=legal)).json()
    assert first["degraded"] == "no_confident_answer" and first["reviewed"] is None
    rewrite = await http.post(
        f"/v1/review/{first['review_id']}/rewrite",
        json={"answer": "Ninety days' notice [1].", "note": "clause 9.2"},
        headers=reviewer,
    )
    assert rewrite.status_code == 200
    asked = len(rig.models())
    body = (await http.post("/v1/ask", json={"question": Q}, headers=legal)).json()
    assert body["answer"] == "Ninety days' notice [1]." and body["confident"] is True
    assert body["reviewed"]["decision"] == "rewritten" and body["reviewed"]["reviewer"] == "rita"
    assert body["reviewed"]["review_id"] == first["review_id"] and body["reviewed"]["decided_at"]
    assert body["citations"][0]["doc_id"] == "msa-contoso" and body["cost_usd"] == 0.0
    assert len(rig.models()) == asked


def test_the_cli_marks_a_reviewed_answer() -> None:
    from loregate.cli.common import console
    from loregate.cli.retrieval_cmds import print_answer
    from retrieval.answer_types import Answer, ReviewedBy

    answer = Answer(
        question=Q,
        answer="Ninety days [1].",
        confident=True,
        model="claude-opus-4-8",
        reviewed=ReviewedBy(
            review_id="abc123",
            decision="approved",
            reviewer="rita",
            decided_at=datetime.fromisoformat("2026-06-02T09:30:00+00:00"),
        ),
    )
    with console.capture() as out:
        print_answer(answer)
    text = " ".join(out.get().split())
    assert "REVIEWED approved by rita on 2026-06-02 09:30 UTC (review abc123)" in text
    assert "human review of a claude-opus-4-8 draft" in text and "$0.000000" in text
