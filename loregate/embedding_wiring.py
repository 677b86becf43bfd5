"""The embedder the settings choose: the bundled model, another sentence-transformers model
(``LOREGATE_EMBEDDING_MODEL``), or an OpenAI-compatible server (``LOREGATE_EMBEDDINGS_URL``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from loregate.settings import Settings

if TYPE_CHECKING:
    from retrieval.embedder import TextEmbedder


def build_embedder(
    settings: Settings, on_close: Callable[[Callable[[], Any]], None]
) -> TextEmbedder:
    s = settings
    if s.embeddings_url:
        from retrieval.remote_embedder import RemoteEmbedder

        model = s.embedding_model or ""
        local = model if model and Path(model).is_dir() else None  # its tokenizer sizes chunks
        remote = RemoteEmbedder(
            s.embeddings_url,
            model,
            api_key=s.embeddings_api_key,
            tokenizer=s.embeddings_tokenizer or local,
            max_tokens=s.embeddings_max_tokens,
        )
        on_close(remote.close)
        return remote
    from retrieval.embedder import Embedder

    return Embedder(s.embedding_model)
