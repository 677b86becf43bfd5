"""The small protocols every model provider (and every resilience wrapper) implements."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol, runtime_checkable

from gateway.types import ModelRequest, ModelResponse, StreamEvent


class EventSource(Protocol):
    """A model's events and token counts: what the stream wrappers of gateway/resilience
    need of what they wrap, and are themselves."""

    name: str

    def stream(self, request: ModelRequest) -> AsyncIterator[StreamEvent]:
        """Anthropic-shaped events; the last ``message_delta`` carries cumulative usage.

        Raises ``kernel.errors.StreamInterrupted`` on an error event after the stream began.
        """
        ...

    async def count_tokens(self, request: ModelRequest) -> int: ...


@runtime_checkable
class Provider(EventSource, Protocol):
    """A model behind a wire. ``request.model`` is already the pinned model id here."""

    async def complete(self, request: ModelRequest) -> ModelResponse: ...
