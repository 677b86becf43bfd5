"""The BM25 sparse encoder: stable ids, saturation, length normalisation, query weights."""

from __future__ import annotations

import pytest

from retrieval.sparse import SparseConfig, SparseEncoder


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
