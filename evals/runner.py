"""The runner: every question through the answerer, scored and stored as it finishes.

Concurrency is bounded by a semaphore. Each result is written in its own transaction the moment
it is scored, so a run stopped at any point (Ctrl-C, a crash, a killed process) keeps what it
finished; ``resume`` asks only the questions with no successful result yet.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from evals.answerers import Answerer
from evals.dataset import EvalItem
from evals.metrics.operational import summarize
from evals.records import QuestionResult, RunInfo, Snapshot
from evals.run_store import RunStore
from kernel.errors import ApiError
from retrieval.answer_types import Answer


class Scorer(Protocol):
    async def score(self, item: EvalItem, answer: Answer) -> dict[str, float | None]: ...


class Progress(Protocol):
    def start(self, total: int, done: int) -> None: ...

    def advance(self, result: QuestionResult) -> None: ...

    def stop(self) -> None: ...


class NullProgress:
    def start(self, total: int, done: int) -> None:
        return None

    def advance(self, result: QuestionResult) -> None:
        return None

    def stop(self) -> None:
        return None


class RunAborted(ApiError):
    """The run stopped early because every question so far failed (a setup problem)."""

    code = "eval_run_aborted"
    status = 503


@dataclass
class RunOutcome:
    run: RunInfo
    asked: int
    failed: int
    summary: dict[str, float | None] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def describe_error(exc: BaseException) -> str:
    if isinstance(exc, ApiError):
        return f"{exc.code}: {exc.message}"
    return f"internal_error: {type(exc).__name__}: {exc}"


class EvalRunner:
    def __init__(
        self,
        store: RunStore,
        answerer: Answerer,
        scorer: Scorer,
        *,
        concurrency: int = 4,
        abort_after: int = 5,
        progress: Progress | None = None,
        timer: Callable[[], float] = time.perf_counter,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.store = store
        self.answerer = answerer
        self.scorer = scorer
        self.concurrency = concurrency
        self.abort_after = abort_after
        self.progress = progress or NullProgress()
        self.timer = timer

    async def _one(self, position: int, item: EvalItem) -> QuestionResult:
        base = QuestionResult(
            item_id=item.id,
            position=position,
            question=item.question,
            reference=item.reference,
            tags=list(item.tags),
            principal=item.principal.label,
        )
        t0 = self.timer()
        try:
            answer = await self.answerer.answer(item)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            wall = (self.timer() - t0) * 1000
            return base.model_copy(update={"error": describe_error(exc), "wall_ms": wall})
        wall = (self.timer() - t0) * 1000
        try:
            metrics = await self.scorer.score(item, answer)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            return base.model_copy(
                update={
                    "answer": answer,
                    "wall_ms": wall,
                    "error": "scoring failed: " + describe_error(exc),
                }
            )
        return base.model_copy(update={"answer": answer, "wall_ms": wall, "metrics": metrics})

    async def run(self, run: RunInfo, items: Sequence[EvalItem]) -> RunOutcome:
        """Ask every item not yet done in ``run``; mark the run finished, interrupted or failed."""
        done = await asyncio.to_thread(self.store.done_item_ids, run.id)
        todo = [(pos, item) for pos, item in enumerate(items) if item.id not in done]
        self.progress.start(len(items), len(items) - len(todo))
        sem = asyncio.Semaphore(self.concurrency)
        errors: list[str] = []
        completed = 0
        failures = 0
        any_success = False
        abort = asyncio.Event()

        async def worker(pos: int, item: EvalItem) -> None:
            nonlocal completed, failures, any_success
            async with sem:
                if abort.is_set():
                    return
                result = await self._one(pos, item)
                await asyncio.to_thread(self.store.save_result, run.id, result)
                completed += 1
                if result.ok:
                    any_success = True  # one success: a setup problem is ruled out
                else:
                    errors.append(f"{item.id}: {result.error}")
                    failures += 1
                    if self.abort_after and not any_success and failures >= self.abort_after:
                        abort.set()
                self.progress.advance(result)

        tasks = [asyncio.create_task(worker(pos, item)) for pos, item in todo]
        try:
            await asyncio.gather(*tasks)
        except BaseException:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self.store.finish(run.id, status="interrupted")
            raise
        finally:
            self.progress.stop()
        if abort.is_set():
            self.store.finish(run.id, status="failed")
            raise RunAborted(
                f"stopped after the first {failures} questions all failed; "
                f"first error: {errors[0] if errors else '?'}"
            )
        results = await asyncio.to_thread(self.store.results, run.id)
        summary = summarize(results)
        answers = [r.answer for r in results if r.answer is not None]
        snapshot: Snapshot = run.snapshot.with_answers(answers)
        self.store.finish(run.id, status="finished", summary=summary, snapshot=snapshot)
        final = self.store.get(run.id)
        failed = sum(1 for r in results if not r.ok)
        return RunOutcome(run=final, asked=completed, failed=failed, summary=summary, errors=errors)
