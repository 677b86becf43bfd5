"""What the answer service returns: the body of ``POST /v1/ask`` (and what evals record)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class AskFilters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    doc_types: list[str] = Field(default_factory=list)
    departments: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    updated_from: float | None = Field(default=None, description="epoch seconds")
    updated_to: float | None = Field(default=None, description="epoch seconds")


class Citation(BaseModel):
    n: int = Field(description="the [n] used in the answer")
    chunk_id: str
    doc_id: str
    title: str
    section: str = Field(description="clause path or heading breadcrumb")
    source: str
    score: float
    text: str = ""
    chunk_ids: list[str] = Field(
        default_factory=list, description="every chunk of the source (adjacent chunks merged)"
    )


class Passage(BaseModel):
    chunk_id: str
    doc_id: str
    title: str
    section: str
    source: str
    doc_type: str
    score: float
    text: str


class EscalationStep(BaseModel):
    tier: int
    model: str
    outcome: str
    reason: str | None = None
    cost_usd: float


class TokenCounts(BaseModel):
    input: int = 0
    output: int = 0
    cache_write: int = 0
    cache_read: int = 0


class ReviewedBy(BaseModel):
    """Who decided a reviewed answer, and when (``Answer.reviewed``)."""

    review_id: str
    decision: str = Field(description="'approved' (the model's draft) | 'rewritten'")
    reviewer: str
    decided_at: datetime


class Answer(BaseModel):
    question: str
    answer: str
    citations: list[Citation] = Field(default_factory=list)
    confident: bool = Field(description="False when degraded: passages only, no trusted answer")
    degraded: str | None = Field(
        default=None, description="None | 'no_confident_answer' | 'no_model_reachable'"
    )
    passages: list[Passage] = Field(
        default_factory=list, description="the passages sent (or, degraded, the best found)"
    )
    tier: int | None = None
    model: str | None = None
    escalations: list[EscalationStep] = Field(default_factory=list)
    tokens: TokenCounts = Field(default_factory=TokenCounts)
    cost_usd: float = 0.0
    latency_ms: float = 0.0
    prompt_version: str | None = None
    request_id: str = ""
    review_id: str | None = Field(default=None, description="set when queued for review")
    cached: bool = False
    reviewed: ReviewedBy | None = Field(
        default=None, description="set when a reviewer's approved or rewritten answer is served"
    )
