"""Counting tokens and encoding at once, from two threads, on one model (the ingest pattern).

The preparation thread sizes chunks with ``count_tokens_batch`` while the main thread embeds
with ``embed_documents``; both used to drive the same Rust tokenizer, whose padding and
truncation settings are shared state, and a batch failed with "excessive nesting".
"""

from __future__ import annotations

import threading

import pytest

from retrieval.embedder import Embedder

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _texts(n: int) -> list[str]:
    # Lengths vary widely so that padding differs from batch to batch.
    return [" ".join(f"clause{i} term{j}" for j in range(1 + (i * 7) % 90)) for i in range(n)]


def test_counting_and_encoding_in_two_threads_never_share_tokenizer_state() -> None:
    embedder = Embedder(batch_size=16)
    texts = _texts(1000)
    expected = embedder.count_tokens_batch(texts[:50])
    errors: list[BaseException] = []
    counts: list[int] = []
    singles: list[int] = []

    done = threading.Event()

    def count() -> None:
        try:
            # Counts for as long as the main thread encodes, so the two always overlap.
            while not done.is_set() or not counts:
                counts.clear()
                singles.clear()
                for start in range(0, len(texts), 25):
                    counts.extend(embedder.count_tokens_batch(texts[start : start + 25]))
                    singles.append(embedder.count_tokens(texts[start]))
        except BaseException as exc:
            errors.append(exc)

    counter = threading.Thread(target=count)
    counter.start()
    vectors = []
    for start in range(0, 240, 40):
        vectors.append(embedder.embed_documents(texts[start : start + 40]))
    done.set()
    counter.join()

    assert errors == []
    assert sum(len(v) for v in vectors) == 240
    assert all(v.shape[1] == embedder.dim for v in vectors)
    # Counting is unaffected by the model's truncation at 256 word pieces, and by encoding.
    assert counts[: len(expected)] == expected
    assert singles == counts[::25]
    assert max(counts) > embedder.max_tokens


def test_counts_match_the_models_own_tokenizer() -> None:
    embedder = Embedder()
    texts = ["The Customer may terminate on ninety (90) days' notice.", "ﬁnal", ""]
    tokenizer = embedder.model.tokenizer
    own = [len(tokenizer(t, add_special_tokens=False)["input_ids"]) for t in texts]
    assert embedder.count_tokens_batch(texts) == own
    assert [embedder.count_tokens(t) for t in texts] == own
