"""Runs are records: one ``eval_runs`` row per run and one ``eval_results`` row per question.

A question's row is written as soon as it is answered and scored (one transaction), so an
interrupted run keeps everything it finished and ``resume`` only asks what is missing or failed.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine

from evals.records import QuestionResult, RunInfo, Snapshot
from evals.tables import eval_results, eval_runs
from kernel.errors import InvalidRequest, NotFound

Clock = Callable[[], float]


class RunNotFound(NotFound):
    code = "eval_run_not_found"


def _new_run_id(now: float) -> str:
    return time.strftime("%Y%m%d-%H%M%S", time.gmtime(now)) + "-" + secrets.token_hex(2)


class RunStore:
    def __init__(self, engine: Engine, *, clock: Clock = time.time) -> None:
        self.engine = engine
        self.clock = clock

    # Runs --------------------------------------------------------------------------------------
    def create_run(
        self,
        *,
        dataset_name: str,
        dataset_path: str,
        dataset_sha256: str,
        n_items: int,
        snapshot: Snapshot,
        options: dict[str, Any] | None = None,
        label: str = "",
    ) -> RunInfo:
        now = self.clock()
        info = RunInfo(
            id=_new_run_id(now),
            label=label,
            dataset_name=dataset_name,
            dataset_path=dataset_path,
            dataset_sha256=dataset_sha256,
            status="running",
            created_at=now,
            n_items=n_items,
            snapshot=snapshot,
            options=options or {},
        )
        with self.engine.begin() as conn:
            conn.execute(
                eval_runs.insert().values(
                    id=info.id,
                    label=label,
                    dataset_name=dataset_name,
                    dataset_path=dataset_path,
                    dataset_sha256=dataset_sha256,
                    status="running",
                    created_at=now,
                    n_items=n_items,
                    snapshot=snapshot.model_dump(mode="json"),
                    summary=None,
                    options=info.options,
                )
            )
        return info

    def finish(
        self,
        run_id: str,
        *,
        status: str,
        summary: dict[str, float | None] | None = None,
        snapshot: Snapshot | None = None,
    ) -> None:
        values: dict[str, Any] = {"status": status}
        if status in ("finished", "failed"):
            values["finished_at"] = self.clock()
        if summary is not None:
            values["summary"] = summary
        if snapshot is not None:
            values["snapshot"] = snapshot.model_dump(mode="json")
        with self.engine.begin() as conn:
            conn.execute(eval_runs.update().where(eval_runs.c.id == run_id).values(**values))

    def _info(self, row: sa.Row[Any], n_done: int) -> RunInfo:
        return RunInfo(
            id=row.id,
            label=row.label,
            dataset_name=row.dataset_name,
            dataset_path=row.dataset_path,
            dataset_sha256=row.dataset_sha256,
            status=row.status,
            created_at=row.created_at,
            finished_at=row.finished_at,
            n_items=row.n_items,
            n_done=n_done,
            snapshot=Snapshot.model_validate(row.snapshot),
            summary=row.summary or {},
            options=row.options or {},
        )

    def _done_counts(self, conn: sa.Connection, ids: list[str]) -> dict[str, int]:
        if not ids:
            return {}
        q = (
            sa.select(eval_results.c.run_id, sa.func.count())
            .where(eval_results.c.run_id.in_(ids), eval_results.c.ok.is_(True))
            .group_by(eval_results.c.run_id)
        )
        return {r[0]: int(r[1]) for r in conn.execute(q)}

    def list_runs(self, *, dataset_name: str | None = None, limit: int = 50) -> list[RunInfo]:
        q = sa.select(eval_runs).order_by(eval_runs.c.created_at.desc()).limit(limit)
        if dataset_name:
            q = q.where(eval_runs.c.dataset_name == dataset_name)
        with self.engine.connect() as conn:
            rows = list(conn.execute(q))
            done = self._done_counts(conn, [r.id for r in rows])
        return [self._info(r, done.get(r.id, 0)) for r in rows]

    def get(self, ref: str, *, dataset_name: str | None = None) -> RunInfo:
        """A run by id, unique id prefix, or ``latest`` (newest finished, of a dataset if given)."""
        ref = ref.strip()
        if not ref:
            raise InvalidRequest("an eval run reference must not be empty")
        with self.engine.connect() as conn:
            if ref == "latest":
                q = sa.select(eval_runs).where(eval_runs.c.status == "finished")
                if dataset_name:
                    q = q.where(eval_runs.c.dataset_name == dataset_name)
                rows = list(conn.execute(q.order_by(eval_runs.c.created_at.desc()).limit(1)))
                if not rows:
                    where = f" of dataset {dataset_name!r}" if dataset_name else ""
                    raise RunNotFound(f"no finished eval run{where} yet: nothing is 'latest'")
            else:
                rows = list(conn.execute(sa.select(eval_runs).where(eval_runs.c.id == ref)))
                if not rows:
                    like = ref.replace("%", "").replace("_", "") + "%"
                    rows = list(conn.execute(sa.select(eval_runs).where(eval_runs.c.id.like(like))))
                if not rows:
                    raise RunNotFound(f"no eval run {ref!r} (see `loregate eval list`)")
                if len(rows) > 1:
                    ids = ", ".join(sorted(r.id for r in rows)[:5])
                    raise InvalidRequest(f"eval run {ref!r} is ambiguous: {ids}")
            done = self._done_counts(conn, [rows[0].id])
        return self._info(rows[0], done.get(rows[0].id, 0))

    # Results -----------------------------------------------------------------------------------
    def save_result(self, run_id: str, result: QuestionResult) -> None:
        """Write (or replace, on resume) one question's result atomically."""
        cost = result.answer.cost_usd if result.answer else 0.0
        with self.engine.begin() as conn:
            conn.execute(
                eval_results.delete().where(
                    eval_results.c.run_id == run_id, eval_results.c.item_id == result.item_id
                )
            )
            conn.execute(
                eval_results.insert().values(
                    run_id=run_id,
                    item_id=result.item_id,
                    position=result.position,
                    ok=result.ok,
                    cost_usd=cost,
                    wall_ms=result.wall_ms,
                    record=result.model_dump(mode="json"),
                    created_at=self.clock(),
                )
            )

    def done_item_ids(self, run_id: str) -> set[str]:
        """Questions answered without error (a resume asks the others again)."""
        q = sa.select(eval_results.c.item_id).where(
            eval_results.c.run_id == run_id, eval_results.c.ok.is_(True)
        )
        with self.engine.connect() as conn:
            return {r[0] for r in conn.execute(q)}

    def results(self, run_id: str) -> list[QuestionResult]:
        q = (
            sa.select(eval_results.c.record)
            .where(eval_results.c.run_id == run_id)
            .order_by(eval_results.c.position)
        )
        with self.engine.connect() as conn:
            return [QuestionResult.model_validate(r[0]) for r in conn.execute(q)]
