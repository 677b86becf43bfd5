"""Incremental, idempotent ingestion: unchanged, changed, deleted, pruned, failed, killed."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from ingest.chunking import ChunkingConfig
from ingest.documents import ParsedDocument
from ingest.errors import DocumentNotFound, SourceNotFound
from ingest.manifest import parse_manifest
from ingest.pipeline import point_id
from retrieval import index_version, schema
from testkit.embedders import FakeEmbedder
from tests.ingest.conftest import MakeIngestor
from tests.ingest.helpers import EVERYONE, write

LONG = "\n\n".join(f"Paragraph {i}. " + "The refund window is thirty days. " * 12 for i in range(6))


@pytest.fixture
def src(tmp_path: Path) -> Path:
    root = tmp_path / "src"
    write(
        root,
        "handbook.md",
        "# Handbook\n\n## Time Off\n\nYou get 25 days of PTO.\n\n"
        "## Expenses\n\nMeals are paid up to USD 75 a day.\n",
    )
    write(root, "policies/refunds.md", "# Refunds\n\n" + LONG)
    write(root, "notes.txt", "Parking is free for employees.")
    return root


def test_first_run_adds_everything_with_payloads(make_ingestor: MakeIngestor, src: Path) -> None:
    ing, store = make_ingestor()
    report = ing.ingest_path([src])
    assert report.counts() == {"added": 3, "updated": 0, "unchanged": 0, "deleted": 0, "failed": 0}
    assert report.ok and report.scope == "src"
    assert store.count() == report.chunks_written == sum(d.chunk_count for d in ing.documents())
    chunks = store.chunks_of_doc("src:handbook.md", EVERYONE)
    assert [c.payload[schema.SECTION] for c in chunks] == [
        "Handbook > Time Off",
        "Handbook > Expenses",
    ]
    first = chunks[0].payload
    assert first[schema.TEXT] == "Handbook > Time Off\nYou get 25 days of PTO."
    assert first[schema.ACCESS] == ["public"] and first[schema.SOURCE] == "handbook.md"
    assert first[schema.CONFIG_HASH] == ing.config_hash
    assert chunks[0].id == point_id("src:handbook.md", 0, ing.config_hash)
    assert report.public_by_default == 3
    assert report.index_version != "0"


def test_second_run_writes_nothing(make_ingestor: MakeIngestor, src: Path) -> None:
    embedder = FakeEmbedder()
    ing, store = make_ingestor(embedder=embedder)
    first = ing.ingest_path([src])
    writes, embedded = store.writes(), embedder.embedded
    second = ing.ingest_path([src])
    assert second.counts()["unchanged"] == 3 and second.chunks_written == 0
    assert store.writes() == writes  # zero writes
    assert embedder.embedded == embedded  # nothing re-embedded
    assert second.index_version == first.index_version  # nothing changed: same version


def test_changed_document_replaces_its_chunks(make_ingestor: MakeIngestor, src: Path) -> None:
    ing, store = make_ingestor()
    ing.ingest_path([src])
    before = len(store.ids_for_doc("src:policies/refunds.md"))
    assert before > 2
    write(src, "policies/refunds.md", "# Refunds\n\nThe refund window is 14 days now.")
    report = ing.ingest_path([src])
    assert report.updated == ["src:policies/refunds.md"]
    assert report.counts()["unchanged"] == 2
    chunks = store.chunks_of_doc("src:policies/refunds.md", EVERYONE)
    assert len(chunks) == 1 and "14 days" in chunks[0].payload[schema.TEXT]
    assert report.chunks_deleted == before - 1  # stale chunks gone, not duplicated
    assert store.count() == sum(d.chunk_count for d in ing.documents())


def test_removed_file_stays_until_prune(make_ingestor: MakeIngestor, src: Path) -> None:
    ing, store = make_ingestor()
    ing.ingest_path([src])
    (src / "notes.txt").unlink()
    kept = ing.ingest_path([src])
    assert kept.deleted == [] and store.ids_for_doc("src:notes.txt")
    pruned = ing.ingest_path([src], prune=True)
    assert pruned.deleted == ["src:notes.txt"]
    assert store.ids_for_doc("src:notes.txt") == []
    assert [d.doc_id for d in ing.documents()] == ["src:handbook.md", "src:policies/refunds.md"]
    assert pruned.index_version != kept.index_version


def test_prune_only_touches_its_own_scope(make_ingestor: MakeIngestor, tmp_path: Path) -> None:
    ing, _store = make_ingestor()
    write(tmp_path / "a", "x.md", "alpha text")
    write(tmp_path / "b", "y.md", "beta text")
    ing.ingest_path([tmp_path / "a"])
    ing.ingest_path([tmp_path / "b"], prune=True)
    assert {d.doc_id for d in ing.documents()} == {"a:x.md", "b:y.md"}


def test_failed_parse_keeps_the_previous_version(make_ingestor: MakeIngestor, src: Path) -> None:
    ing, store = make_ingestor()
    ing.ingest_path([src])
    ids = store.ids_for_doc("src:notes.txt")
    (src / "notes.txt").write_bytes(b"caf\xe9 au lait")  # not UTF-8 any more
    report = ing.ingest_path([src], prune=True)
    assert [(f.path, f.code) for f in report.failed] == [("notes.txt", "bad_encoding")]
    assert store.ids_for_doc("src:notes.txt") == ids  # still searchable
    record = ing.registry.get("src:notes.txt")
    assert record is not None and record.status == "failed" and record.error_code == "bad_encoding"
    assert report.deleted == []  # a failed file is still in the source: not pruned
    (src / "notes.txt").write_text("Parking is free on weekends.", encoding="utf-8")
    fixed = ing.ingest_path([src])
    assert fixed.updated == ["src:notes.txt"]
    record = ing.registry.get("src:notes.txt")
    assert record is not None and record.status == "ok" and record.last_error is None


def test_manifest_change_rewrites_payloads(make_ingestor: MakeIngestor, src: Path) -> None:
    ing, store = make_ingestor()
    ing.ingest_path([src])
    legal = parse_manifest({"rules": [{"match": "notes.txt", "access": ["group:legal"]}]})
    report = ing.ingest_path([src], manifest=legal)
    assert report.updated == ["src:notes.txt"]
    (chunk,) = store.chunks_of_doc("src:notes.txt", EVERYONE)
    assert chunk.payload[schema.ACCESS] == ["group:legal"]


def test_config_change_reembeds_and_drops_old_points(
    make_ingestor: MakeIngestor, src: Path
) -> None:
    ing, store = make_ingestor()
    ing.ingest_path([src])
    old_ids = set(store.ids_for_doc("src:handbook.md"))
    ing2, _ = make_ingestor(chunking=ChunkingConfig(max_tokens=120))  # another chunker config
    assert ing2.config_hash != ing.config_hash
    report = ing2.ingest_path([src])
    assert report.counts()["updated"] == 3
    new_ids = set(store.ids_for_doc("src:handbook.md"))
    assert new_ids and not (new_ids & old_ids)
    assert store.count() == sum(d.chunk_count for d in ing2.documents())


def test_dry_run_writes_nothing(make_ingestor: MakeIngestor, src: Path) -> None:
    ing, store = make_ingestor()
    plan = ing.ingest_path([src], dry_run=True)
    assert plan.dry_run and sorted(plan.added) == [
        "src:handbook.md",
        "src:notes.txt",
        "src:policies/refunds.md",
    ]
    assert store.writes() == 0 and ing.documents() == []
    ing.ingest_path([src])
    (src / "notes.txt").unlink()
    plan = ing.ingest_path([src], dry_run=True, prune=True)
    assert plan.deleted == ["src:notes.txt"] and store.ids_for_doc("src:notes.txt")


def test_killed_job_reruns_without_loss_or_duplicates(
    make_ingestor: MakeIngestor, src: Path, engine: Engine
) -> None:
    for i in range(8):
        write(src, f"more/doc{i}.md", f"# Doc {i}\n\n" + LONG)
    ing, store = make_ingestor(flush_chunks=4)
    store.crash_after_upserts = 10  # dies in the middle of the run
    with pytest.raises(KeyboardInterrupt):
        ing.ingest_path([src])
    partial = store.count()
    assert partial > 0
    store.crash_after_upserts = None
    report = ing.ingest_path([src])
    assert report.ok
    expected = sum(d.chunk_count for d in ing.documents())
    assert len(ing.documents()) == 11
    assert store.count() == expected  # nothing lost, nothing duplicated
    for doc in ing.documents():
        ids = store.ids_for_doc(doc.doc_id)
        assert len(ids) == doc.chunk_count == len(set(ids))
    assert ing.ingest_path([src]).counts()["unchanged"] == 11


def test_index_version_moves_with_every_write(
    make_ingestor: MakeIngestor, src: Path, engine: Engine
) -> None:
    ing, _ = make_ingestor()
    assert index_version.current(engine, "test") == "0"
    v1 = ing.ingest_path([src]).index_version
    assert index_version.current(engine, "test") == v1 != "0"
    ing.delete_document("src:notes.txt")
    assert index_version.current(engine, "test") != v1


def test_delete_document(make_ingestor: MakeIngestor, src: Path) -> None:
    ing, store = make_ingestor()
    ing.ingest_path([src])
    n = len(store.ids_for_doc("src:handbook.md"))
    assert ing.delete_document("src:handbook.md") == n
    assert store.ids_for_doc("src:handbook.md") == []
    assert ing.registry.get("src:handbook.md") is None
    with pytest.raises(DocumentNotFound):
        ing.delete_document("src:handbook.md")


def test_missing_source_is_a_clear_error(make_ingestor: MakeIngestor, tmp_path: Path) -> None:
    ing, _ = make_ingestor()
    with pytest.raises(SourceNotFound, match="no such file or folder"):
        ing.ingest_path([tmp_path / "nope"], prune=True)


def test_preparsed_documents_incremental_and_pruned_by_scope(
    make_ingestor: MakeIngestor,
) -> None:
    ing, store = make_ingestor(backend="memory")
    docs = [
        ParsedDocument(
            doc_id=f"https://docs.example/{i}",
            title=f"Page {i}",
            text=f"Section {i}\n\nThe answer number {i} is here.",
            source=f"https://docs.example/{i}",
        )
        for i in range(5)
    ]
    first = ing.ingest_documents(docs, scope="claude-docs")
    assert len(first.added) == 5 and first.ok
    again = ing.ingest_documents(docs, scope="claude-docs")
    assert len(again.unchanged) == 5 and store.writes() == first.chunks_written
    changed = [*docs[:3], ParsedDocument(doc_id=docs[3].doc_id, title="Page 3", text="New.")]
    report = ing.ingest_documents(changed, scope="claude-docs", prune=True)
    assert report.updated == [docs[3].doc_id] and report.deleted == [docs[4].doc_id]
    hit = store.chunks_of_doc(docs[0].doc_id, EVERYONE)[0].payload
    assert hit[schema.DOC_ID] == docs[0].doc_id and hit[schema.SCOPE] == "claude-docs"


def test_duplicate_ids_fail_the_second_copy(make_ingestor: MakeIngestor) -> None:
    ing, _ = make_ingestor()
    doc = ParsedDocument(doc_id="same", title="A", text="one")
    report = ing.ingest_documents([doc, doc], scope="s")
    assert report.added == ["same"]
    assert [f.code for f in report.failed] == ["duplicate_id"]
