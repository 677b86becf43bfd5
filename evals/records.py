"""What a run records: per question (answer, contexts, metrics) and per run (snapshot, summary)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from retrieval.answer_types import Answer


class Snapshot(BaseModel):
    """What produced a run, so two runs can be told apart when compared."""

    mode: str = Field(description="in-process | url")
    url: str | None = None
    collection: str | None = None
    route: str | None = None
    prompt_version: str | None = None
    routing_version: str | None = None
    index_version: str | None = None
    chunker: dict[str, Any] = Field(default_factory=dict)
    embedder: dict[str, Any] = Field(default_factory=dict)
    model_ids: list[str] = Field(default_factory=list)
    judge: str | None = None
    corpus_sha256: str | None = None
    loregate_version: str | None = None
    extra: dict[str, Any] = Field(default_factory=dict)

    def with_answers(self, answers: list[Answer]) -> Snapshot:
        """Fill what only the answers tell (prompt versions and models actually used)."""
        models = set(self.model_ids)
        prompts = {a.prompt_version for a in answers if a.prompt_version}
        for a in answers:
            if a.model:
                models.add(a.model)
            models.update(s.model for s in a.escalations if s.model)
        update: dict[str, Any] = {"model_ids": sorted(models)}
        if not self.prompt_version and prompts:
            update["prompt_version"] = ",".join(sorted(prompts))
        return self.model_copy(update=update)


class QuestionResult(BaseModel):
    """One question's outcome. ``answer`` is None when the question failed (``error`` says why)."""

    item_id: str
    position: int
    question: str
    reference: str = ""
    tags: list[str] = Field(default_factory=list)
    principal: str = ""
    answer: Answer | None = None
    error: str | None = None
    wall_ms: float = 0.0
    metrics: dict[str, float | None] = Field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.answer is not None and self.error is None


class RunInfo(BaseModel):
    """A run's row: identity, status, snapshot and (when finished) the summary."""

    id: str
    dataset_name: str
    dataset_path: str
    dataset_sha256: str
    status: str = Field(description="running | interrupted | finished | failed")
    created_at: float
    finished_at: float | None = None
    n_items: int
    n_done: int = 0
    label: str = ""
    snapshot: Snapshot
    summary: dict[str, float | None] = Field(default_factory=dict)
    options: dict[str, Any] = Field(default_factory=dict)
