"""The BM25 sparse encoder: stable ids, saturation, length normalisation, query weights."""

from __future__ import annotations

import pytest

from retrieval.sparse import SparseConfig, SparseEncoder
from retrieval.store.base import SparseVector


@pytest.fixture(scope="module")
def enc() -> SparseEncoder:
    return SparseEncoder()


def weights(enc: SparseEncoder, text: str) -> dict[int, float]:
    v = enc.encode_documents([text])[0]
    return dict(zip(v.indices, v.values, strict=True))


def test_token_ids_are_pinned(enc: SparseEncoder) -> None:
    """Golden ids: an upgrade that changes tokenising or hashing must fail here, because old
    documents would silently stop matching new queries. Re-ingest (bump the config) if so."""
    assert enc.encode_query("liability").indices == [299944580]
    assert enc.encode_query("Liability cap").indices == [299944580, 1989892411]


def test_stemming_and_stop_words(enc: SparseEncoder) -> None:
    assert enc.encode_query("liabilities") == enc.encode_query("liability")
    assert enc.encode_query("the of and").indices == []
    assert enc.encode_query("liability liability").values == [1.0]


def test_term_frequency_saturates(enc: SparseEncoder) -> None:
    (tok,) = enc.encode_query("refund").indices
    w1 = weights(enc, "refund")[tok]
    w2 = weights(enc, "refund refund")[tok]
    w8 = weights(enc, " ".join(["refund"] * 8))[tok]
    assert w1 < w2 < w8 < (enc.config.k + 1)  # bounded by k + 1


def test_longer_documents_weigh_each_term_less(enc: SparseEncoder) -> None:
    (tok,) = enc.encode_query("refund").indices
    short = weights(enc, "refund window")[tok]
    long = weights(enc, "refund " + " ".join(f"word{i}" for i in range(300)))[tok]
    assert long < short


def test_ids_are_sorted_and_config_is_in_the_id() -> None:
    v = SparseEncoder().encode_document("zebra apple mango apple")
    assert v.indices == sorted(v.indices)
    a = SparseEncoder(SparseConfig(avg_len=50)).config_id
    assert a != SparseEncoder().config_id and "avg_len=50" in a
    with pytest.raises(ValueError, match="b must be"):
        SparseConfig(b=2)


def test_the_heading_field_adds_a_saturated_unnormalised_weight(enc: SparseEncoder) -> None:
    (refund,) = enc.encode_query("refund").indices
    (policy,) = enc.encode_query("policy").indices
    text = "Refunds reach the card within five days."
    plain = weights(enc, text)
    both = dict(
        zip(*_pair(enc.encode_documents([text], ["Billing > Refund policy"])[0]), strict=True)
    )
    k = enc.config.k
    assert both[refund] == pytest.approx(plain[refund] + 1.0)  # tf 1: (k + 1) / (1 + k)
    assert both[policy] == pytest.approx(1.0) and policy not in plain  # heading-only token
    long_heading = enc.encode_document(text, "Refund " + " ".join(f"w{i}" for i in range(40)))
    assert dict(zip(*_pair(long_heading), strict=True))[refund] == pytest.approx(
        plain[refund] + (k + 1) / (1 + k)  # a long heading is not length-normalised
    )


def test_no_heading_or_weight_zero_gives_the_text_only_vector(enc: SparseEncoder) -> None:
    text = "Refunds reach the card within five days."
    assert enc.encode_documents([text], [""]) == enc.encode_documents([text])
    off = SparseEncoder(SparseConfig(heading_weight=0.0))
    assert off.encode_document(text, "Billing > Refund policy") == enc.encode_document(text)
    assert "heading" not in off.config_id and "heading=1.0" in enc.config_id
    half = SparseEncoder(SparseConfig(heading_weight=0.5))
    (refund,) = enc.encode_query("refund").indices
    v = dict(zip(*_pair(half.encode_document(text, "Refund policy")), strict=True))
    assert v[refund] == pytest.approx(weights(enc, text)[refund] + 0.5)
    with pytest.raises(ValueError, match="2 texts but 1 headings"):
        enc.encode_documents([text, text], ["x"])
    with pytest.raises(ValueError, match="heading_weight"):
        SparseConfig(heading_weight=-1)


def _pair(v: SparseVector) -> tuple[list[int], list[float]]:
    return v.indices, v.values
