"""CLI commands of the `ingest` part: `loregate ingest` and `loregate documents ...`."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from loregate.cli.common import console, fail, friendly_errors, graph

if TYPE_CHECKING:
    from ingest.report import IngestReport

documents_app = typer.Typer(help="The documents in the index: list them, delete one.")


class RichProgress:
    """Files done (bar), chunks written and chunks per second."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.task: TaskID | None = None
        self.chunks = 0
        self.started = time.perf_counter()

    def start(self, total_files: int) -> None:
        self.started = time.perf_counter()
        self.task = self.progress.add_task("ingesting", total=total_files, chunks="0", rate="-")

    def file_done(self, path: str, outcome: str) -> None:
        if self.task is not None:
            self.progress.update(self.task, advance=1, description=_short(path))

    def chunks_written(self, n: int) -> None:
        self.chunks += n
        rate = self.chunks / max(time.perf_counter() - self.started, 1e-6)
        if self.task is not None:
            self.progress.update(self.task, chunks=str(self.chunks), rate=f"{rate:.1f}")


def _short(path: str, width: int = 36) -> str:
    return path if len(path) <= width else "…" + path[-(width - 1) :]


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description:<36}", style="bold", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("files · {task.fields[chunks]} chunks · {task.fields[rate]} chunks/s"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


def print_report(report: IngestReport) -> None:
    verb = "would be " if report.dry_run else ""
    prefix = "Dry run: " if report.dry_run else ""
    table = Table(title=f"{prefix}{report.scope} → {report.collection}")
    table.add_column("documents", style="bold")
    table.add_column("count", justify="right")
    for name, count in report.counts().items():
        style = "red" if name == "failed" and count else ""
        table.add_row(f"{verb}{name}", f"[{style}]{count}[/]" if style else str(count))
    console.print(table)
    console.print(
        f"{report.files} files, {report.chunks_written} chunks written, "
        f"{report.chunks_deleted} deleted, in {report.seconds:.1f} s; "
        f"index version {report.index_version}"
    )
    if report.contexts_written:
        console.print(
            f"{report.contexts_written} chunk contexts written by a model (on the ledger as "
            "source ingest)"
        )
    if report.public_by_default:
        console.print(
            f"[yellow]note:[/] {report.public_by_default} documents had no access list in the "
            "manifest and are readable by everyone (public)"
        )
    if report.failed:
        errors = Table(title="failed", title_style="bold red")
        errors.add_column("file or document")
        errors.add_column("error")
        errors.add_column("reason")
        for f in report.failed:  # user data: never read as markup or :emoji: codes
            errors.add_row(Text(f.path), Text(f.code), Text(f.message))
        console.print(errors)


def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Folders (walked recursively) or files.")],
    manifest: Annotated[
        Path | None, typer.Option("--manifest", "-m", help="YAML metadata file.")
    ] = None,
    prune: Annotated[
        bool, typer.Option(help="Delete documents that are gone from the source.")
    ] = False,
    dry_run: Annotated[bool, typer.Option(help="Say what would change; write nothing.")] = False,
    source: Annotated[
        str | None,
        typer.Option(help="Source scope (default: the manifest's `source`, else the folder name)."),
    ] = None,
) -> None:
    """Ingest contracts, docs and ticket exports into the index (incremental, idempotent)."""
    from ingest.errors import FileRejected
    from retrieval.embedder import EmbedderError
    from retrieval.store.base import StoreError

    g = graph()
    try:
        with _progress() as bar:
            report = g.ingestor().ingest_path(
                paths,
                manifest=manifest,
                scope=source,
                prune=prune,
                dry_run=dry_run,
                progress=RichProgress(bar),
            )
    except (StoreError, EmbedderError, FileRejected) as exc:
        raise fail(str(exc)) from None
    print_report(report)
    if not report.ok:
        raise typer.Exit(1)


@documents_app.command("list")
@friendly_errors
def list_documents(
    source: Annotated[str | None, typer.Option(help="Only this source scope.")] = None,
    failed: Annotated[
        bool, typer.Option("--failed", help="Only documents whose last run failed.")
    ] = False,
) -> None:
    """The documents in the index, with their chunk counts, access lists and status."""

    docs = graph().ingestor().documents(source)
    if failed:
        docs = [d for d in docs if d.status != "ok"]
    table = Table()
    for col in ("doc_id", "type", "chunks", "access", "status", "title"):
        table.add_column(col)
    for d in docs:
        status = Text(d.status) if d.status == "ok" else Text(f"{d.status}: {d.error_code}", "red")
        table.add_row(
            Text(d.doc_id),
            d.doc_type,
            str(d.chunk_count),
            Text(", ".join(d.access)),
            status,
            Text(d.title),
        )
    console.print(table)
    console.print(f"{len(docs)} documents")


@documents_app.command("delete")
@friendly_errors
def delete_document(
    doc_id: Annotated[str, typer.Argument(help="The document id (see `list`).")],
) -> None:
    """Delete one document (all its chunks) from the index."""

    n = graph().ingestor().delete_document(doc_id)
    console.print(Text(f"deleted {doc_id} ({n} chunks)"))


# The commands this module adds to `loregate` ----------------------------------------------
app = typer.Typer()

app.command("ingest")(friendly_errors(ingest))
app.add_typer(documents_app, name="documents")
