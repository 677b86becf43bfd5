"""Fusion arithmetic and the request filters (permission tokens always set)."""

from __future__ import annotations

import pytest

from kernel.errors import InvalidRequest
from kernel.principal import Principal
from retrieval.answer_types import AskFilters
from retrieval.filters import search_filter, validate_filters
from retrieval.fusion import FusionConfig, Hit, document_coherence, fuse
from retrieval.store.base import ScoredChunk


def sc(i: str, score: float) -> ScoredChunk:
    return ScoredChunk(id=i, score=score, payload={"text": i})


def test_rrf_sums_reciprocal_ranks_and_keeps_each_retrievers_view() -> None:
    dense = [sc("a", 0.9), sc("b", 0.8)]
    sparse = [sc("b", 12.0), sc("c", 3.0)]
    hits = fuse(dense, sparse, FusionConfig(method="rrf", rrf_k=60))
    by_id = {h.id: h for h in hits}
    assert by_id["b"].score == pytest.approx(0.5 / 62 + 0.5 / 61)
    assert by_id["a"].score == pytest.approx(0.5 / 61)
    assert [h.id for h in hits] == ["b", "a", "c"]
    assert (by_id["b"].dense_rank, by_id["b"].sparse_rank) == (2, 1)
    assert by_id["b"].sparse_score == 12.0 and by_id["c"].dense_score is None


def test_convex_normalises_each_list_then_weights() -> None:
    dense = [sc("a", 0.9), sc("b", 0.5), sc("c", 0.1)]
    sparse = [sc("c", 20.0), sc("a", 10.0), sc("b", 0.0)]
    hits = fuse(dense, sparse, FusionConfig(method="convex", dense_weight=0.25))
    scores = {h.id: h.score for h in hits}
    assert scores["a"] == pytest.approx(0.25 * 1.0 + 0.75 * 0.5)
    assert scores["b"] == pytest.approx(0.25 * 0.5 + 0.75 * 0.0)
    assert scores["c"] == pytest.approx(0.25 * 0.0 + 0.75 * 1.0)
    assert [h.id for h in hits] == ["c", "a", "b"]


def test_dbsf_clips_to_three_sigma_and_ties_break_by_id() -> None:
    hits = fuse([sc("z", 1.0), sc("y", 1.0)], [], FusionConfig(method="dbsf", dense_weight=1.0))
    assert [h.id for h in hits] == ["y", "z"]  # equal scores: deterministic order by id
    assert all(0.0 <= h.score <= 1.0 for h in hits)


def test_one_empty_list_still_ranks_the_other() -> None:
    hits = fuse([], [sc("a", 2.0), sc("b", 1.0)])
    assert [h.id for h in hits] == ["a", "b"]


def test_bad_fusion_config_is_refused() -> None:
    with pytest.raises(ValueError, match="dense_weight"):
        FusionConfig(dense_weight=1.5)


def test_search_filter_always_carries_the_principals_tokens() -> None:
    p = Principal(user_id="u1", department="legal", groups=("g2",))
    flt = search_filter(p, AskFilters(doc_types=["contract"], tags=["b", "a", "a"]))
    assert flt.access_tokens == ("dept:legal", "group:g2", "public", "user:u1")
    assert flt.doc_types == ("contract",)
    assert flt.tags == ("a", "b")
    assert search_filter(p).access_tokens == flt.access_tokens


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        (AskFilters(doc_types=["memo"]), "unknown type"),
        (AskFilters(tags=[" "]), "filters.tags: empty value"),
        (AskFilters(updated_from=10, updated_to=5), "updated_from"),
        (AskFilters(departments=["x"] * 51), "at most 50"),
    ],
)
def test_bad_filters_name_the_problem(filters: AskFilters, message: str) -> None:
    with pytest.raises(InvalidRequest, match=message):
        validate_filters(filters)


def test_unknown_filter_keys_are_refused() -> None:
    with pytest.raises(ValueError, match="doc_typo"):
        AskFilters.model_validate({"doc_typo": ["contract"]})


def test_document_coherence_lifts_a_second_chunk_of_the_same_document() -> None:
    hits = [
        Hit("a1", 1.00, {"doc_id": "A"}),
        Hit("b1", 0.95, {"doc_id": "B"}),
        Hit("a2", 0.90, {"doc_id": "A"}),
        Hit("c1", 0.50, {"doc_id": "C"}),
    ]
    ranked = document_coherence(hits, 0.1)
    assert [h.id for h in ranked] == ["a1", "a2", "b1", "c1"]
    assert ranked[1].score == pytest.approx(0.99)
    assert [h.id for h in document_coherence(hits, 0.0)] == ["a1", "b1", "a2", "c1"]
