"""The real embedding model (loaded once per test session: the model cache is per process)."""

from __future__ import annotations

import numpy as np
import pytest

from retrieval.embedder import Embedder, EmbedderError
from testkit.embedders import FakeEmbedder

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return Embedder()


def test_config_id_needs_no_model() -> None:
    e = Embedder()
    assert e.config_id == "st:all-MiniLM-L6-v2:normalized"
    assert not e.loaded
    assert Embedder("/models/my-e5/").config_id == "st:/models/my-e5:normalized"


def test_documents_and_queries_share_one_space(embedder: Embedder) -> None:
    docs = embedder.embed_documents(
        ["The liability cap is twelve months of fees.", "Employees get 25 days of PTO."]
    )
    assert docs.shape == (2, 384) and docs.dtype == np.float32
    assert np.allclose(np.linalg.norm(docs, axis=1), 1.0, atol=1e-5)
    q = np.array(embedder.embed_query("How many vacation days do staff get?"))
    assert q @ docs[1] > q @ docs[0]
    assert embedder.dim == 384 and embedder.max_tokens == 256
    assert embedder.embed_documents([]).shape == (0, 384)


def test_token_counts_are_word_pieces(embedder: Embedder) -> None:
    assert embedder.count_tokens("indemnification") > 1  # split into word pieces
    assert embedder.count_tokens_batch(["a b c", ""]) == [3, 0]


def test_a_missing_model_is_a_clear_error() -> None:
    with pytest.raises(EmbedderError, match="runs offline"):
        _ = Embedder("/nonexistent/model-dir").dim


def test_fake_embedder_is_deterministic() -> None:
    f = FakeEmbedder(dim=16)
    a, b = f.embed_documents(["refund window", "refund window"])
    assert np.array_equal(a, b) and f.embedded == 2
    assert f.count_tokens("Hello, world") == 3
