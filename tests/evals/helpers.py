"""Builders for eval records in tests."""

from __future__ import annotations

from evals.records import QuestionResult, RunInfo, Snapshot
from retrieval.answer_types import Answer, Citation, Passage, TokenCounts


def answer(
    *,
    cost: float = 0.001,
    latency: float = 500.0,
    tier: int | None = 0,
    cache_read: int = 0,
    fresh: int = 100,
    text: str = "An answer [1].",
    docs: tuple[str, ...] = ("d1",),
    confident: bool = True,
    texts: dict[str, str] | None = None,
) -> Answer:
    texts = texts or {}
    passages = [
        Passage(
            chunk_id=f"{d}#0",
            doc_id=d,
            title=f"Title {d}",
            section="§1",
            source=d,
            doc_type="doc",
            score=1.0 - i / 10,
            text=texts.get(d, f"text of {d}"),
        )
        for i, d in enumerate(docs)
    ]
    citations = (
        [
            Citation(
                n=1,
                chunk_id=passages[0].chunk_id,
                doc_id=docs[0],
                title=passages[0].title,
                section="§1",
                source=docs[0],
                score=1.0,
            )
        ]
        if docs
        else []
    )
    return Answer(
        question="q",
        answer=text,
        citations=citations,
        confident=confident,
        degraded=None if confident else "no_confident_answer",
        passages=passages,
        tier=tier,
        model="claude-haiku-4-5",
        tokens=TokenCounts(input=fresh, output=20, cache_read=cache_read),
        cost_usd=cost,
        latency_ms=latency,
        prompt_version="answer@abc",
    )


def result(
    item_id: str,
    position: int = 0,
    *,
    metrics: dict[str, float | None] | None = None,
    error: str | None = None,
    **kw: object,
) -> QuestionResult:
    return QuestionResult(
        item_id=item_id,
        position=position,
        question=f"question {item_id}?",
        reference="ref",
        answer=None if error else answer(**kw),  # type: ignore[arg-type]
        error=error,
        metrics=metrics or {},
    )


def run_info(
    run_id: str, summary: dict[str, float | None] | None = None, created_at: float = 1_700_000_000.0
) -> RunInfo:
    return RunInfo(
        id=run_id,
        dataset_name="suite",
        dataset_path="/tmp/suite.jsonl",
        dataset_sha256="0" * 64,
        status="finished",
        created_at=created_at,
        finished_at=created_at + 12.5,
        n_items=3,
        snapshot=Snapshot(mode="in-process", prompt_version="answer@abc"),
        summary=summary or {},
    )
