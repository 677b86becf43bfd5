"""Our embedder as a ragas embeddings object (so no metric ever reaches for OpenAI).

ragas 0.4 has two embedding interfaces: the modern ``BaseRagasEmbedding`` (``embed_text`` /
``aembed_text``, used by SemanticSimilarity) and the LangChain-style one (``embed_query`` /
``embed_documents``, used by ResponseRelevancy). ``make_ragas_embeddings`` returns one object
that speaks both, backed by ``retrieval.embedder`` (any ``TextEmbedder``). The model runs in a
worker thread so scoring never blocks the event loop.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from typing import Any

from retrieval.embedder import TextEmbedder

PRIMED_MAX = 256


def make_ragas_embeddings(embedder: TextEmbedder) -> Any:
    """A ``ragas.embeddings.BaseRagasEmbedding`` over ``embedder`` (imports ragas: slow)."""
    from ragas.embeddings.base import BaseRagasEmbedding

    class LoregateEmbeddings(BaseRagasEmbedding):  # type: ignore[misc]
        def __init__(self, inner: TextEmbedder) -> None:
            super().__init__(cache=None)
            self.inner = inner
            self.primed: OrderedDict[str, list[float]] = OrderedDict()

        async def prime(self, texts: list[str]) -> None:
            """Embed ``texts`` in one batch now; the next ``aembed_text`` of each is free
            (a metric embeds its two texts one by one: one model call instead of two)."""
            todo = [t for t in dict.fromkeys(texts) if t not in self.primed]
            if todo:
                for text, vec in zip(todo, await self.aembed_texts(todo), strict=True):
                    self.primed[text] = vec
                while len(self.primed) > PRIMED_MAX:
                    self.primed.popitem(last=False)

        # Modern interface
        def embed_text(self, text: str, **kwargs: Any) -> list[float]:
            return self.primed.pop(text, None) or self.inner.embed_query(text)

        async def aembed_text(self, text: str, **kwargs: Any) -> list[float]:
            found = self.primed.pop(text, None)
            if found is not None:
                return found
            return await asyncio.to_thread(self.inner.embed_query, text)

        def embed_texts(self, texts: list[str], **kwargs: Any) -> list[list[float]]:
            return [[float(x) for x in row] for row in self.inner.embed_documents(texts)]

        async def aembed_texts(self, texts: list[str], **kwargs: Any) -> list[list[float]]:
            return await asyncio.to_thread(self.embed_texts, texts)

        # LangChain-style interface
        def embed_query(self, text: str) -> list[float]:
            return self.embed_text(text)

        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return self.embed_texts(texts)

        async def aembed_query(self, text: str) -> list[float]:
            return await self.aembed_text(text)

        async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
            return await self.aembed_texts(texts)

    return LoregateEmbeddings(embedder)
