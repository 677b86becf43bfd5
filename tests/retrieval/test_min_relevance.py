"""The context builder's optional absolute relevance floor (``LOREGATE_MIN_RELEVANCE``): off by
default, validated, applied to every hit (the best one too) on top of the relative floor."""

from __future__ import annotations

from pathlib import Path

import pytest

from loregate.graph import Loregate
from loregate.settings import SettingsError, load_settings
from retrieval import schema
from retrieval.context_builder import ContextBuilder, ContextConfig
from retrieval.fusion import Hit


def hit(i: str, score: float, doc: str) -> Hit:
    payload = {
        schema.TEXT: f"text of {i} about {doc}",
        schema.DOC_ID: doc,
        schema.CHUNK_INDEX: 0,
        schema.TITLE: doc,
        schema.SOURCE: f"{doc}.md",
        schema.CONTENT_HASH: f"hash-{doc}",
    }
    return Hit(id=i, score=score, payload=payload)


HITS = [hit("a", 0.8, "d1"), hit("b", 0.5, "d2"), hit("c", 0.3, "d3"), hit("d", 0.1, "d4")]


def test_off_by_default_only_the_relative_floor_applies() -> None:
    assert ContextConfig().min_score is None
    kept = ContextBuilder(ContextConfig(floor_ratio=0.1)).select(HITS)
    assert [h.id for h in kept] == ["a", "b", "c", "d"]
    # a weak best hit is still sent: the relative floor always keeps the best one
    assert [h.id for h in ContextBuilder().select([hit("x", 0.01, "d")])] == ["x"]


def test_hits_under_the_absolute_floor_are_dropped() -> None:
    kept = ContextBuilder(ContextConfig(floor_ratio=0.1, min_score=0.3)).select(HITS)
    assert [h.id for h in kept] == ["a", "b", "c"]
    # both floors: the stricter one wins
    both = ContextBuilder(ContextConfig(floor_ratio=0.7, min_score=0.3)).select(HITS)
    assert [h.id for h in both] == ["a"]


def test_a_best_hit_under_the_absolute_floor_means_no_sources() -> None:
    b = ContextBuilder(ContextConfig(min_score=0.9))
    assert b.select(HITS) == [] and b.build(HITS) == []


def test_sources_carry_the_documents_content_hash() -> None:
    (src,) = ContextBuilder(ContextConfig(min_score=0.6)).build(HITS)
    assert (src.n, src.doc_id, src.content_hash) == (1, "d1", "hash-d1")


@pytest.mark.parametrize("bad", [-0.1, float("nan"), float("inf")])
def test_the_config_refuses_a_bad_floor(bad: float) -> None:
    with pytest.raises(ValueError, match="min_score"):
        ContextConfig(min_score=bad)


@pytest.mark.parametrize(("raw", "value"), [("0.25", 0.25), ("1", 1.0), ("", None), ("off", None)])
def test_the_setting_reads_the_environment(
    loregate_env: Path, monkeypatch: pytest.MonkeyPatch, raw: str, value: float | None
) -> None:
    assert load_settings().min_relevance is None
    monkeypatch.setenv("LOREGATE_MIN_RELEVANCE", raw)
    assert load_settings().min_relevance == value


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ("0", "greater than 0"),
        ("-1", "greater than 0"),
        ("1.5", "less than or equal to 1"),
        ("nan", "finite"),
        ("lots", "valid number"),
    ],
)
def test_a_bad_setting_names_the_variable(
    loregate_env: Path, monkeypatch: pytest.MonkeyPatch, raw: str, why: str
) -> None:
    monkeypatch.setenv("LOREGATE_MIN_RELEVANCE", raw)
    with pytest.raises(SettingsError, match="LOREGATE_MIN_RELEVANCE") as err:
        load_settings()
    assert why in str(err.value) and repr(raw) in str(err.value)


def test_the_builder_hands_the_setting_to_the_context_builder(loregate_env: Path) -> None:
    assert Loregate(load_settings()).answer_service().builder.config.min_score is None
    builder = Loregate(load_settings(min_relevance=0.4)).answer_service().builder
    assert builder.config.min_score == 0.4
    assert builder.config.floor_ratio == ContextConfig().floor_ratio
