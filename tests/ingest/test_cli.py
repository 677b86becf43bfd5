"""`loregate ingest` and `loregate documents`: progress, summary table, exit codes."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from testkit.embedders import FakeEmbedder
from tests.graphs import GraphRunner, build_graph
from tests.ingest.helpers import write

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def cli(loregate_env: Path) -> Iterator[GraphRunner]:
    from loregate.settings import get_settings

    graph = build_graph(get_settings(), embedder=FakeEmbedder())
    yield GraphRunner(graph)
    asyncio.run(graph.aclose())


def run(cli: CliRunner, *args: str) -> tuple[int, str]:
    from loregate.cli.main import app

    result = cli.invoke(app, list(args), env={"COLUMNS": "200"})
    return result.exit_code, result.output


def test_ingest_demo_corpus_then_unchanged(cli: CliRunner) -> None:
    code, out = run(
        cli, "ingest", str(ROOT / "demo/corpus"), "--manifest", str(ROOT / "demo/manifest.yaml")
    )
    assert code == 0, out
    assert "chunks/s" in out and "10/10" in out
    assert "│ added     │    13 │" in out and "│ failed    │     0 │" in out
    code, out = run(
        cli, "ingest", str(ROOT / "demo/corpus"), "--manifest", str(ROOT / "demo/manifest.yaml")
    )
    assert code == 0 and "│ unchanged │    13 │" in out and "0 chunks written" in out
    code, out = run(cli, "documents", "list", "--source", "northwind")
    assert code == 0 and "northwind:contracts/acme-msa.md" in out and "13 documents" in out
    code, out = run(cli, "documents", "delete", "northwind:ticket:SUP-1042")
    assert code == 0 and "deleted northwind:ticket:SUP-1042" in out


def test_failures_exit_non_zero_with_reasons(cli: CliRunner, tmp_path: Path) -> None:
    write(tmp_path / "src", "good.md", "fine")
    write(tmp_path / "src", "bad.txt", b"\x00\x01\x02binary")
    code, out = run(cli, "ingest", str(tmp_path / "src"))
    assert code == 1
    assert "bad.txt" in out and "binary_content" in out and "│ added     │     1 │" in out
    assert "readable by everyone (public)" in out


def test_dry_run_and_prune(cli: CliRunner, tmp_path: Path) -> None:
    write(tmp_path / "src", "a.md", "alpha")
    write(tmp_path / "src", "b.md", "beta")
    code, out = run(cli, "ingest", str(tmp_path / "src"), "--dry-run")
    assert code == 0 and "Dry run" in out and "would be added" in out
    run(cli, "ingest", str(tmp_path / "src"))
    (tmp_path / "src" / "b.md").unlink()
    code, out = run(cli, "ingest", str(tmp_path / "src"), "--prune")
    assert code == 0 and "│ deleted   │     1 │" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ingest", "/nonexistent/folder"], "source_not_found: no such file or folder"),
        (
            ["ingest", ".", "--manifest", "/nonexistent.yaml"],
            "invalid_manifest: manifest not found",
        ),
        (["documents", "delete", "nope"], "document_not_found"),
    ],
)
def test_bad_input_is_one_line_and_non_zero(cli: CliRunner, args: list[str], message: str) -> None:
    code, out = run(cli, *args)
    assert code == 1 and message in out
