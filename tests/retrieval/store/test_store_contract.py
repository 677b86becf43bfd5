"""The shared VectorStore contract: every backend (embedded qdrant-edge and qdrant-client)
passes the same tests, the permission filter included."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from retrieval import schema
from retrieval.store.base import ChunkPoint, IndexStore, SearchFilter, SparseVector

DIM = 4


def point(
    doc: str,
    idx: int,
    dense: list[float],
    access: list[str],
    *,
    sparse: tuple[list[int], list[float]] = ([1], [1.0]),
    **extra: Any,
) -> ChunkPoint:
    payload: dict[str, Any] = {
        schema.DOC_ID: doc,
        schema.CHUNK_INDEX: idx,
        schema.ACCESS: access,
        schema.DOC_TYPE: extra.pop("doc_type", "doc"),
        schema.DEPARTMENT: extra.pop("department", "eng"),
        schema.TAGS: extra.pop("tags", []),
        schema.UPDATED_AT: extra.pop("updated_at", 100.0),
        schema.TEXT: f"{doc} chunk {idx}",
        **extra,
    }
    pid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{doc}/{idx}"))
    return ChunkPoint(pid, dense, SparseVector(*sparse), payload)


def everyone(*extra: str) -> SearchFilter:
    return SearchFilter(access_tokens=("public", *extra))


@pytest.fixture
def filled(store: IndexStore) -> IndexStore:
    store.ensure_collection(DIM)
    store.upsert(
        [
            point("handbook", 0, [1, 0, 0, 0], ["public"], sparse=([10, 11], [1.0, 1.0])),
            point("handbook", 1, [0.9, 0.1, 0, 0], ["public"], sparse=([11], [1.0])),
            point(
                "msa",
                0,
                [1, 0.05, 0, 0],
                ["group:legal"],
                sparse=([10, 12], [2.0, 1.0]),
                doc_type="contract",
                department="legal",
                tags=["contract", "msa"],
                updated_at=200.0,
            ),
            point(
                "pto",
                0,
                [0.8, 0.2, 0, 0],
                ["dept:hr", "user:alice"],
                sparse=([10], [1.0]),
                department="hr",
                tags=["policy"],
                updated_at=300.0,
            ),
        ]
    )
    return store


def ids_of(chunks: list[Any]) -> set[str]:
    return {c.payload[schema.DOC_ID] for c in chunks}


def test_the_description_says_which_store_holds_the_index(
    store: IndexStore, tmp_path: Path
) -> None:
    described = store.description
    assert "Qdrant" in described
    assert str(tmp_path) in described or "collection 'contract'" in described


def test_empty_store_answers_without_a_collection(store: IndexStore) -> None:
    assert store.count() == 0
    assert store.search_dense([1, 0, 0, 0], everyone(), 5) == []
    assert store.ids_for_doc("x") == []
    store.delete(["00000000-0000-0000-0000-000000000000"])  # no error


def test_dense_search_ranks_by_cosine(filled: IndexStore) -> None:
    hits = filled.search_dense([1, 0, 0, 0], everyone("group:legal", "dept:hr"), 10)
    assert [h.payload[schema.DOC_ID] for h in hits][:2] == ["handbook", "msa"]
    assert hits[0].score == pytest.approx(1.0, abs=1e-5)
    assert all(hits[i].score >= hits[i + 1].score for i in range(len(hits) - 1))
    assert hits[0].payload[schema.TEXT] == "handbook chunk 0"


def test_permission_filter_applies_before_ranking(filled: IndexStore) -> None:
    # limit 1: a store that ranked first and filtered after would return nothing here
    hits = filled.search_dense([1, 0.05, 0, 0], everyone(), 1)
    assert ids_of(hits) == {"handbook"}
    legal = filled.search_dense([1, 0.05, 0, 0], SearchFilter(access_tokens=("group:legal",)), 1)
    assert ids_of(legal) == {"msa"}


@pytest.mark.parametrize(
    ("tokens", "visible"),
    [
        (("public",), {"handbook"}),
        (("group:legal",), {"msa"}),
        (("user:alice",), {"pto"}),
        (("dept:hr", "public"), {"pto", "handbook"}),
        (("group:hr", "dept:legal", "user:bob"), set()),  # near misses match nothing
        ((), set()),
    ],
)
def test_access_tokens_decide_visibility(
    filled: IndexStore, tokens: tuple[str, ...], visible: set[str]
) -> None:
    flt = SearchFilter(access_tokens=tokens)
    assert ids_of(filled.search_dense([1, 0, 0, 0], flt, 10)) == visible
    assert ids_of(filled.search_sparse(SparseVector([10, 11, 12], [1, 1, 1]), flt, 10)) == visible
    assert filled.count(flt) == sum(2 if d == "handbook" else 1 for d in visible)


def test_sparse_search_uses_idf(filled: IndexStore) -> None:
    everybody = everyone("group:legal", "dept:hr")
    # token 12 occurs once, token 10 in three points: the rare token decides the ranking
    hits = filled.search_sparse(SparseVector([10, 12], [1.0, 1.0]), everybody, 10)
    assert hits[0].payload[schema.DOC_ID] == "msa"
    assert filled.search_sparse(SparseVector([], []), everybody, 10) == []
    assert filled.search_sparse(SparseVector([999], [1.0]), everybody, 10) == []


def test_metadata_filters_narrow_inside_the_query(filled: IndexStore) -> None:
    all_tokens = ("public", "group:legal", "dept:hr")
    q = [1.0, 0.0, 0.0, 0.0]
    by_type = filled.search_dense(q, SearchFilter(all_tokens, doc_types=("contract",)), 10)
    assert ids_of(by_type) == {"msa"}
    by_dept = filled.search_dense(q, SearchFilter(all_tokens, departments=("hr", "legal")), 10)
    assert ids_of(by_dept) == {"msa", "pto"}
    by_tag = filled.search_dense(q, SearchFilter(all_tokens, tags=("policy",)), 10)
    assert ids_of(by_tag) == {"pto"}
    by_doc = filled.search_dense(q, SearchFilter(all_tokens, doc_ids=("handbook",)), 10)
    assert len(by_doc) == 2 and ids_of(by_doc) == {"handbook"}
    dated = filled.search_dense(q, SearchFilter(all_tokens, updated_from=150, updated_to=250), 10)
    assert ids_of(dated) == {"msa"}
    since = filled.search_dense(q, SearchFilter(all_tokens, updated_from=250), 10)
    assert ids_of(since) == {"pto"}
    # a metadata filter never widens access
    assert filled.search_dense(q, SearchFilter(("public",), doc_types=("contract",)), 10) == []


def test_upsert_is_idempotent_and_replaces_payload(filled: IndexStore) -> None:
    before = filled.count()
    again = point("handbook", 0, [1, 0, 0, 0], ["group:legal"])
    filled.upsert([again, again])
    assert filled.count() == before
    assert (
        filled.search_dense([1, 0, 0, 0], SearchFilter(("public",), doc_ids=("handbook",)), 5)[
            0
        ].payload[schema.CHUNK_INDEX]
        == 1
    )  # chunk 0 is no longer public


def test_ids_delete_retrieve_and_chunks_of_doc(filled: IndexStore) -> None:
    ids = filled.ids_for_doc("handbook")
    assert len(ids) == 2 and all(uuid.UUID(i) for i in ids)
    got = filled.retrieve([ids[1], str(uuid.uuid4()), ids[0]])
    assert [c.id for c in got] == [ids[1], ids[0]]
    chunks = filled.chunks_of_doc("handbook", everyone())
    assert [c.payload[schema.CHUNK_INDEX] for c in chunks] == [0, 1]
    assert filled.chunks_of_doc("msa", everyone()) == []  # not readable with these tokens
    filled.delete(ids)
    assert filled.ids_for_doc("handbook") == []
    assert filled.count() == 2
    filled.delete([])


def test_many_points_page_through_scroll(store: IndexStore) -> None:
    store.ensure_collection(DIM)
    store.upsert([point("big", i, [1, i / 3000, 0, 0], ["public"]) for i in range(2500)])
    assert len(store.ids_for_doc("big")) == 2500
    assert store.count(everyone()) == 2500
    store.optimize()
    assert store.count() == 2500


def test_dimension_mismatch_is_a_clear_error(filled: IndexStore) -> None:
    from retrieval.store.base import StoreError

    with pytest.raises(StoreError, match="holds 4-dimension vectors but the embedder makes 8"):
        filled.ensure_collection(8)
    filled.ensure_collection(DIM)  # the same dimension is fine
