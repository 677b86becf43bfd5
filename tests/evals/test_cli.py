"""`loregate eval run|list|compare|report`: outputs, stored runs and the gate's exit codes."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from typer.testing import CliRunner

from evals.dataset import EvalItem
from evals.dataset_loader import load_dataset
from retrieval.answer_types import Answer
from testkit.answer_service import StubAnswerService
from testkit.embedders import FakeEmbedder
from tests.graphs import GraphRunner, build_graph


class Scorer:
    async def score(self, item: EvalItem, answer: Answer) -> dict[str, float | None]:
        sent = {p.doc_id for p in answer.passages}
        hit = 1.0 if set(item.gold_ids) & sent else 0.0
        return {
            "recall@5": hit,
            "mrr": hit,
            "leaks": 0.0,
            "escalations": 0.0,
            "confident": float(answer.confident),
        }


class Knobs:
    quality = 0.9
    interrupt_after: int | None = None
    routes: ClassVar[list[str | None]] = []


class StubAsker:
    """The answer service of these runs: a stub over the suite, built at the first question
    (each test writes its own suite), recording the route each question was asked on."""

    def __init__(self) -> None:
        self.svc: StubAnswerService | None = None

    async def ask(
        self, question: str, *, principal: Any, filters: Any = None, route: Any = None
    ) -> Answer:
        if self.svc is None or self.svc.quality != Knobs.quality:
            self.svc = StubAnswerService(load_dataset(SUITE_PATH[0]).items, quality=Knobs.quality)
        Knobs.routes.append(route)
        if Knobs.interrupt_after is not None and len(self.svc.calls) >= Knobs.interrupt_after:
            raise KeyboardInterrupt
        return await self.svc.ask(question, principal=principal, filters=filters, route=route)


@pytest.fixture
def cli(loregate_env: Path) -> Iterator[GraphRunner]:
    from loregate.settings import get_settings

    Knobs.quality, Knobs.interrupt_after, Knobs.routes = 0.9, None, []
    graph = build_graph(
        get_settings(),
        providers={},
        embedder=FakeEmbedder(),
        ask_service=StubAsker(),
        eval_scorer=Scorer(),
    )
    yield GraphRunner(graph)
    asyncio.run(graph.aclose())


SUITE_PATH: list[Path] = []


@pytest.fixture
def suite(tmp_path: Path) -> Path:
    path = tmp_path / "suite.jsonl"
    rows = [
        {
            "id": f"q{i}",
            "question": f"What is fact {i}?",
            "reference": f"Fact {i}.",
            "reference_doc_ids": [f"doc-{i}"],
        }
        for i in range(12)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    SUITE_PATH[:] = [path]
    return path


def run(cli: CliRunner, *args: str) -> tuple[int, str]:
    from loregate.cli.main import app

    result = cli.invoke(app, list(args), env={"COLUMNS": "200"})
    return result.exit_code, result.output


def _run_ids(cli: GraphRunner) -> list[str]:
    return [r.id for r in cli.graph.run_store.list_runs()]


def test_run_list_and_report(cli: CliRunner, suite: Path, tmp_path: Path) -> None:
    out = tmp_path / "reports"
    code, text = run(
        cli, "eval", "run", "--dataset", str(suite), "--out", str(out), "--label", "first"
    )
    assert code == 0, text
    assert "recall@5" in text and "12 questions asked" in text
    (run_id,) = _run_ids(cli)
    assert (out / f"eval-{run_id}.html").is_file() and (out / f"eval-{run_id}.md").is_file()
    code, text = run(cli, "eval", "list")
    assert code == 0 and run_id in text and "finished" in text and "12/12" in text
    assert "answer@" in text and "first" in text
    code, text = run(cli, "eval", "report", run_id[:-1], "--out", str(tmp_path / "again"))
    assert code == 0 and (tmp_path / "again" / f"eval-{run_id}.md").is_file()
    code, text = run(cli, "eval", "run", "--dataset", str(suite), "--limit", "3", "--out", str(out))
    assert code == 0 and "3 questions asked" in text


def test_gate_exit_codes(cli: CliRunner, suite: Path, tmp_path: Path) -> None:
    out = str(tmp_path / "r")
    # The first run has no baseline: relative rules are skipped (said so), bounds still apply.
    code, text = run(
        cli,
        "eval",
        "run",
        "-d",
        str(suite),
        "--out",
        out,
        "--baseline",
        "latest",
        "--fail-on",
        "recall@5<-0.02,leaks>0",
    )
    assert code == 0, text
    assert "no earlier finished run of this dataset" in text and "leaks = 0" in text
    # Same answers: no regression.
    code, text = run(
        cli,
        "eval",
        "run",
        "-d",
        str(suite),
        "--out",
        out,
        "--baseline",
        "latest",
        "--fail-on",
        "recall@5<-0.02,cost_per_answer>+10%,leaks>0",
    )
    assert code == 0, text
    assert "regression gate" in text and "FAIL" not in text
    # Worse retrieval: recall drops, the gate fails with exit 1.
    Knobs.quality = 0.1
    code, text = run(
        cli,
        "eval",
        "run",
        "-d",
        str(suite),
        "--out",
        out,
        "--baseline",
        "latest",
        "--fail-on",
        "recall@5<-0.02",
    )
    assert code == 1, text
    assert "FAIL" in text and "regression gate failed" in text
    assert "questions that changed most" in text
    # compare two stored runs, with and without a gate
    newest, _, first = _run_ids(cli)
    code, text = run(cli, "eval", "compare", first, newest)
    assert code == 0 and "recall@5" in text and "95% CI" in text and "worse" in text
    code, text = run(cli, "eval", "compare", first, newest, "--fail-on", "recall@5<-0.1")
    assert code == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--fail-on", "recall@5<<1"], "is not METRIC OP VALUE"),
        (["--fail-on", "recal@5<-0.1"], "unknown metric 'recal@5'"),
        (["--baseline", "nope"], "no eval run 'nope'"),
        (["--resume", "nope"], "no eval run 'nope'"),
    ],
)
def test_bad_options_exit_2_before_anything_runs(
    cli: CliRunner, suite: Path, args: list[str], message: str
) -> None:
    code, text = run(cli, "eval", "run", "-d", str(suite), *args)
    assert code == 2, text
    assert message in text and "error:" in text
    assert _run_ids(cli) == []  # nothing was stored


def test_bad_dataset_and_unknown_runs(cli: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "ok"}\n{"question": 3}\n')
    code, text = run(cli, "eval", "run", "-d", str(bad))
    assert code == 2 and "bad.jsonl:2: field 'question'" in text
    code, text = run(cli, "eval", "run")
    assert code == 2 and "give --dataset PATH" in text
    code, text = run(cli, "eval", "compare", "a", "b")
    assert code == 2 and "no eval run 'a'" in text
    code, text = run(cli, "eval", "report", "latest")
    assert code == 2 and "nothing is 'latest'" in text
    code, text = run(cli, "eval", "list")
    assert code == 0 and "no eval runs yet" in text


def test_interrupted_run_is_resumed(cli: CliRunner, suite: Path, tmp_path: Path) -> None:
    Knobs.interrupt_after = 5
    code, text = run(
        cli,
        "eval",
        "run",
        "-d",
        str(suite),
        "--concurrency",
        "1",
        "--out",
        str(tmp_path),
        "--route",
        "economy",
    )
    assert code == 130, text
    (run_id,) = _run_ids(cli)
    assert f"resume with: loregate eval run --resume {run_id}" in text
    assert "after 5/12 questions" in text
    code, text = run(cli, "eval", "list")
    assert "interrupted" in text and "5/12" in text
    Knobs.interrupt_after = None
    code, text = run(cli, "eval", "run", "--resume", run_id, "--out", str(tmp_path))
    assert code == 0, text
    assert "7 questions asked" in text
    assert "resuming" in text and "route economy" in text
    assert set(Knobs.routes) == {"economy"} and len(Knobs.routes) == 13  # the run kept its route
    assert _run_ids(cli) == [run_id]
    code, text = run(cli, "eval", "list")
    assert "finished" in text and "12/12" in text
    code, text = run(cli, "eval", "run", "--resume", run_id)
    assert code == 2 and "already finished" in text
