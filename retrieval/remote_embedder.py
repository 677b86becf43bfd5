"""Embeddings from an OpenAI-compatible ``/embeddings`` server (``LOREGATE_EMBEDDINGS_URL``).

What companies run on a GPU box: vLLM, text-embeddings-inference, infinity. The URL is the base
URL as the OpenAI SDK takes it (``http://gpu-box:8000/v1`` for vLLM and TEI; infinity serves
at its root unless started with ``--url-prefix /v1``); requests go to ``<url>/embeddings`` with
``LOREGATE_EMBEDDING_MODEL`` as the model id and ``LOREGATE_EMBEDDINGS_API_KEY`` as a bearer
token when set. Vectors are L2-normalised here, whatever the server does, so cosine is a dot
product as with the bundled model.

Chunk sizing counts tokens locally (no server has a standard tokenize call): with the
tokenizer of ``LOREGATE_EMBEDDINGS_TOKENIZER`` (a ``tokenizer.json`` or a model directory), else
of ``LOREGATE_EMBEDDING_MODEL`` when it is a local directory, else of the bundled MiniLM (a
close count for any WordPiece or BPE model; chunks stay under ``max_tokens`` of the server's
model when it reads at least as many as MiniLM's 256). Each thread counts with its own copy:
a tokenizer's padding and truncation settings are shared mutable state.

The vectors are identified by the model id alone (``config_id``), never by the URL: the same
model behind another host gives the same vectors.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from numpy.typing import NDArray

from retrieval.embedder import EmbedderError, TokenCounting, default_model_path

_RETRY_STATUS = {408, 429, 500, 502, 503, 504}


def tokenizer_file(ref: str | None) -> Path:
    """The ``tokenizer.json`` to count with: ``ref`` (a file or a model directory) or the
    bundled model's."""
    if ref:
        path = Path(ref).expanduser()
        found = path / "tokenizer.json" if path.is_dir() else path
        if not found.is_file():
            raise EmbedderError(
                f"LOREGATE_EMBEDDINGS_TOKENIZER: no tokenizer.json at {ref} (give the file or "
                "the model's directory)"
            )
        return found
    return default_model_path() / "tokenizer.json"


class RemoteEmbedder(TokenCounting):
    def __init__(
        self,
        url: str,
        model: str,
        *,
        api_key: str | None = None,
        tokenizer: str | None = None,
        max_tokens: int = 256,
        batch_size: int = 64,
        timeout_s: float = 60.0,
        attempts: int = 3,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not model.strip():
            raise EmbedderError(
                "LOREGATE_EMBEDDINGS_URL needs LOREGATE_EMBEDDING_MODEL: the model id the "
                "server serves"
            )
        if batch_size < 1 or attempts < 1 or max_tokens < 16:
            raise ValueError("batch_size >= 1, attempts >= 1 and max_tokens >= 16")
        self.url = url.rstrip("/")
        self.model = model
        self.batch_size = batch_size
        self.attempts = attempts
        self._max_tokens = max_tokens
        self._tokenizer_ref = tokenizer
        headers = {"authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(
            timeout=timeout_s,
            headers=headers,
            transport=transport or httpx.HTTPTransport(retries=2),
        )
        self._dim: int | None = None
        self._local = threading.local()

    # Identity -------------------------------------------------------------------------------
    @property
    def model_name(self) -> str:
        ref = self.model.rstrip("/")
        return Path(ref).name if "/" in ref and Path(ref).exists() else ref

    @property
    def config_id(self) -> str:
        return f"openai-embeddings:{self.model_name}:normalized"

    @property
    def dim(self) -> int:
        if self._dim is None:
            self._dim = int(self._post(["dimension probe"]).shape[1])
        return self._dim

    @property
    def max_tokens(self) -> int:
        return self._max_tokens

    # Embedding ------------------------------------------------------------------------------
    def embed_documents(self, texts: Sequence[str]) -> NDArray[np.float32]:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        parts = [
            self._post(list(texts[i : i + self.batch_size]))
            for i in range(0, len(texts), self.batch_size)
        ]
        vectors = np.concatenate(parts)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return (vectors / np.where(norms == 0, 1.0, norms)).astype(np.float32)

    def embed_query(self, text: str) -> list[float]:
        return [float(x) for x in self.embed_documents([text])[0]]

    def _post(self, batch: list[str]) -> NDArray[np.float32]:
        body = {"model": self.model, "input": batch, "encoding_format": "float"}
        where = f"{self.url}/embeddings"
        for attempt in range(1, self.attempts + 1):
            try:
                resp = self._client.post(where, json=body)
            except httpx.HTTPError as exc:
                if attempt == self.attempts:
                    raise EmbedderError(
                        f"LOREGATE_EMBEDDINGS_URL: {where} did not answer "
                        f"({type(exc).__name__}: {exc})"
                    ) from exc
            else:
                if resp.status_code == 200:
                    return self._vectors(resp.json(), len(batch), where)
                if resp.status_code not in _RETRY_STATUS or attempt == self.attempts:
                    raise EmbedderError(
                        f"LOREGATE_EMBEDDINGS_URL: {where} answered {resp.status_code} for model "
                        f"{self.model!r}: {resp.text[:300]}"
                    )
            time.sleep(min(4.0, 0.25 * 2**attempt))
        raise AssertionError("unreachable")  # pragma: no cover

    def _vectors(self, payload: Any, n: int, where: str) -> NDArray[np.float32]:
        try:
            rows = sorted(payload["data"], key=lambda d: d["index"])
            vectors = np.asarray([r["embedding"] for r in rows], dtype=np.float32)
        except (KeyError, TypeError, ValueError) as exc:
            raise EmbedderError(
                f"LOREGATE_EMBEDDINGS_URL: {where} did not answer in the OpenAI embeddings "
                f"format ({type(exc).__name__}: {exc})"
            ) from exc
        if vectors.ndim != 2 or vectors.shape[0] != n:
            raise EmbedderError(f"{where} returned {vectors.shape[0]} vectors for {n} inputs")
        if self._dim is not None and vectors.shape[1] != self._dim:
            raise EmbedderError(
                f"{where} changed dimension from {self._dim} to {vectors.shape[1]} for model "
                f"{self.model!r}: a changed model needs its own index (set the new model id)"
            )
        self._dim = int(vectors.shape[1])
        return vectors

    # Token counting (chunk sizing) ----------------------------------------------------------
    def _counter(self) -> Any:
        tok = getattr(self._local, "tokenizer", None)
        if tok is None:
            from tokenizers import Tokenizer

            tok = Tokenizer.from_file(str(tokenizer_file(self._tokenizer_ref)))
            tok.no_padding()
            tok.no_truncation()
            self._local.tokenizer = tok
        return tok

    def close(self) -> None:
        self._client.close()
