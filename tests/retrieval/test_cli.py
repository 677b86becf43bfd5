"""`loregate ask/search/review`: bad input gets one line and a non-zero exit; review works."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from loregate.cli.main import app
from loregate.settings import get_settings
from tests.graphs import build_graph


@pytest.fixture
def runner(loregate_env: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    return CliRunner()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ask", "   "], "the question is empty"),
        (["search", ""], "the query is empty"),
        (["ask", "q", "--updated-from", "yesterday"], "--updated-from: expected a date"),
        (["ask", "q", "--doc-type", "memo"], "unknown type"),
        (["ask", "q", "--key", "lg_bad", "--as-user", "x"], "exclude each other"),
        (["review", "approve", "nope"], "no review item"),
        (["review", "list", "--status", "pending"], "status must be one of"),
    ],
)
def test_bad_input_exits_non_zero_with_one_line(
    runner: CliRunner, args: list[str], message: str
) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code != 0
    assert message in result.output.replace("\n", " ")


def test_review_cycle_on_the_cli(runner: CliRunner) -> None:
    queue = build_graph(get_settings()).review_queue
    item = queue.enqueue(
        question="Who signs NDAs?",
        draft_answer="Legal.",
        reason="no_confident_answer: x",
        passages=[],
        asker_user_id="u1",
    )
    listed = runner.invoke(app, ["review", "list", "--json"])
    assert listed.exit_code == 0 and item in listed.output
    table = runner.invoke(app, ["review", "list"])
    assert table.exit_code == 0 and "counts {'queued': 1}" in table.output
    rewritten = runner.invoke(app, ["review", "rewrite", item, "--answer", "The GC signs [1]."])
    assert rewritten.exit_code == 0 and '"status": "rewritten"' in rewritten.output
    again = runner.invoke(app, ["review", "reject", item])
    assert again.exit_code == 1 and "already rewritten" in again.output
