"""What an ingestion run did, and how it reports progress while running."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class Failure:
    path: str  # the file (relative to the source root) or the document id
    code: str  # see ingest.errors
    message: str
    doc_id: str | None = None


@dataclass
class IngestReport:
    collection: str
    scope: str
    dry_run: bool = False
    files: int = 0
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    failed: list[Failure] = field(default_factory=list)
    chunks_written: int = 0
    chunks_deleted: int = 0
    public_by_default: int = 0  # documents ingested without an access list in the manifest
    contexts_written: int = 0  # chunk contexts a model wrote in this run (ingest.chunk_contexts)
    seconds: float = 0.0
    index_version: str = "0"

    @property
    def ok(self) -> bool:
        return not self.failed

    def counts(self) -> dict[str, int]:
        return {
            "added": len(self.added),
            "updated": len(self.updated),
            "unchanged": len(self.unchanged),
            "deleted": len(self.deleted),
            "failed": len(self.failed),
        }

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["counts"] = self.counts()
        data["ok"] = self.ok
        return data


class Progress(Protocol):
    """Told about a run as it goes (the CLI's progress bar, the job record)."""

    def start(self, total_files: int) -> None: ...

    def file_done(self, path: str, outcome: str) -> None: ...

    def chunks_written(self, n: int) -> None: ...


class NoProgress:
    def start(self, total_files: int) -> None:
        pass

    def file_done(self, path: str, outcome: str) -> None:
        pass

    def chunks_written(self, n: int) -> None:
        pass
