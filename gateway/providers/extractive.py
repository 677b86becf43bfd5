"""The extractive answerer as a provider: it answers from the numbered sources of the request by
quoting the sentences, clause items or table rows that answer the question, each cited ``[n]``,
with a confidence. No network, no model tokens, $0, milliseconds; deterministic.

It reads the request as loregate's answer prompt lays it out (``gateway.extraction.sources``).
When no unit of any source shares anything with the question it replies with the prompt's
"not in the sources" sentence (confidence 0), so judges treat it as they would a model's.
Its confidence rides on the response (and on a stream's ``message_delta``); a route's tier
with the ``low_confidence`` signal escalates an answer under the model's ``min_confidence``.

The sentence encoder (the bundled embedder, given by the composition root) is optional: without
it the answerer uses the lexical and structural signals alone.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable

from gateway.extraction.selection import Extract, SentenceEncoder, extract
from gateway.extraction.sources import last_user_text, parse
from gateway.stream_events import response_events
from gateway.types import ModelRequest, ModelResponse, StreamEvent, Usage

_ids = itertools.count(1)


class ExtractiveProvider:
    def __init__(
        self,
        encoder: SentenceEncoder | Callable[[], SentenceEncoder | None] | None = None,
        *,
        name: str = "extractive",
    ) -> None:
        self.name = name
        self._encoder = encoder

    def _encoder_now(self) -> SentenceEncoder | None:
        enc = self._encoder
        if enc is None or hasattr(enc, "embed_documents"):
            return enc  # type: ignore[return-value]
        built = enc()  # type: ignore[operator]
        self._encoder = built
        return built  # type: ignore[no-any-return]

    def answer(self, request: ModelRequest) -> Extract:
        """The extract for ``request`` (blocking: the encoder runs here)."""
        return extract(parse(last_user_text(request.messages)), self._encoder_now())

    async def complete(self, request: ModelRequest) -> ModelResponse:
        found = await asyncio.to_thread(self.answer, request)
        return ModelResponse(
            id=f"msg_extractive_{next(_ids)}",
            provider=self.name,
            model_alias=request.model,
            model_id=request.model,
            content=[{"type": "text", "text": found.text}],
            stop_reason="end_turn",
            usage=Usage(),
            confidence=found.confidence,
        )

    async def stream(self, request: ModelRequest) -> AsyncIterator[StreamEvent]:
        for event in response_events(await self.complete(request)):
            yield event

    async def count_tokens(self, request: ModelRequest) -> int:
        return 0  # it reads the request; no model tokens are spent
