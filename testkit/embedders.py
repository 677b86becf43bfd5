"""A deterministic stand-in for the embedding model, for tests and dry runs (no torch).

Words are hashed into ``dim`` buckets (a bag of words), so texts sharing words are close and
the same text always gets the same vector. Token counts are words and punctuation marks, a
fair stand-in for word pieces. Ships in the package so every test suite can use it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

_WORD = re.compile(r"\w+|[^\w\s]")


def _bucket(word: str, dim: int) -> int:
    return int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "big") % dim


class FakeEmbedder:
    def __init__(self, dim: int = 64, max_tokens: int = 256) -> None:
        self._dim = dim
        self._max_tokens = max_tokens
        self.calls = 0  # how many embed_documents calls (tests assert on re-embedding)
        self.embedded = 0  # how many texts were embedded

    @property
    def config_id(self) -> str:
        return f"fake:{self._dim}"

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def max_tokens(self) -> int:
        return self._max_tokens

    def embed_documents(self, texts: Sequence[str]) -> NDArray[np.float32]:
        self.calls += 1
        self.embedded += len(texts)
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in _WORD.findall(text.lower())[: self._max_tokens]:
                out[row, _bucket(word, self._dim)] += 1.0
            norm = float(np.linalg.norm(out[row]))
            if norm > 0:
                out[row] /= norm
            else:
                out[row, 0] = 1.0
        return out

    def embed_query(self, text: str) -> list[float]:
        return [float(x) for x in self.embed_documents([text])[0]]

    def count_tokens(self, text: str) -> int:
        return len(_WORD.findall(text))

    def count_tokens_batch(self, texts: Sequence[str]) -> list[int]:
        return [self.count_tokens(t) for t in texts]
