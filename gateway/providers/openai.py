"""OpenAI (and any OpenAI-compatible server: vLLM, llama.cpp server, Ollama) through the official
``openai`` SDK, behind the canonical Anthropic-shaped protocol.

The request is translated to chat completions and the answer back (see openai_translate.py).
With ``passthrough=True`` a request that carries an OpenAI-format client's own body
(``ModelRequest.wire``) skips the SDK and the translation: see ``openai_passthrough.py``.
Streams ask for ``stream_options.include_usage`` and are re-emitted as Anthropic-shaped events:
message_start, one content block per text run or tool call, message_delta with the usage and
stop reason, message_stop. Servers that ignore include_usage yield zero usage.

``count_tokens`` is local: tiktoken (``o200k_base`` for current OpenAI models, ``cl100k_base``
for gpt-4/gpt-3.5, o200k for unknown ids such as local models) over each message's text plus
3 tokens of framing per message and 3 for the reply, and the tools' JSON. It is exact for the
text of OpenAI models and an estimate of the framing; without the encodings (offline, no
cache) it falls back to one token per 4 characters.
"""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator
from functools import lru_cache
from typing import Any, NoReturn

import httpx2
import openai

from gateway.providers import openai_passthrough
from gateway.providers.openai_chunks import ChunkEvents
from gateway.providers.openai_translate import to_chat_params
from gateway.providers.passthrough import usable
from gateway.providers.wire import (
    broken_stream,
    forwardable_headers,
    status_error,
    transport_error,
)
from gateway.types import ModelRequest, ModelResponse, StreamEvent
from kernel.errors import (
    ProviderError,
    StreamInterrupted,
)

DEFAULT_TIMEOUT_S = 600.0


class OpenAIProvider:
    """``http_client`` is an ``httpx2.AsyncClient`` (the transport the openai 3.x SDK uses).

    ``max_tokens_param``: "max_completion_tokens" (OpenAI's current name, the default) or
    "max_tokens" for older OpenAI-compatible servers.
    """

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str | None = None,
        http_client: httpx2.AsyncClient | None = None,
        name: str = "openai",
        timeout: float | None = None,
        max_tokens_param: str = "max_completion_tokens",
        passthrough: bool = False,
    ) -> None:
        if max_tokens_param not in ("max_completion_tokens", "max_tokens"):
            raise ValueError("max_tokens_param must be 'max_completion_tokens' or 'max_tokens'")
        self.name = name
        self._max_tokens_param = max_tokens_param
        self._client = openai.AsyncOpenAI(
            api_key=api_key,
            base_url=base_url,
            http_client=http_client,
            max_retries=0,
            timeout=timeout if timeout is not None else DEFAULT_TIMEOUT_S,
        )
        self._pool = (
            openai_passthrough.openai_pool(
                api_key, base_url, timeout if timeout is not None else DEFAULT_TIMEOUT_S, name
            )
            if passthrough
            else None
        )

    async def aclose(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()
        await self._client.close()

    def _params(self, request: ModelRequest) -> dict[str, Any]:
        params = to_chat_params(request, self._max_tokens_param)
        headers = {
            k: v
            for k, v in forwardable_headers(request.extra_headers).items()
            if not k.lower().startswith("anthropic-")
        }
        if headers:
            params["extra_headers"] = headers
        return params

    async def complete(self, request: ModelRequest) -> ModelResponse:
        if self._pool is not None and usable(request, "openai") is not None:
            return await openai_passthrough.complete(self._pool, request)
        try:
            completion = await self._client.chat.completions.create(**self._params(request))
        except Exception as exc:
            self._raise(exc, request)
        return openai_passthrough.completion_response(completion.to_dict(), request, self.name)

    def stream(self, request: ModelRequest) -> AsyncIterator[StreamEvent]:
        if self._pool is not None and usable(request, "openai") is not None:
            return openai_passthrough.stream(self._pool, request)
        return self._sdk_stream(request)

    async def _sdk_stream(self, request: ModelRequest) -> AsyncIterator[StreamEvent]:
        params = {
            **self._params(request),
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        events = ChunkEvents(request.model)
        try:
            chunks = await self._client.chat.completions.create(**params)
            async for chunk in chunks:
                for event in events.feed(chunk.to_dict()):
                    yield event
        except Exception as exc:
            if events.started:
                raise broken_stream(exc, provider=self.name, model=request.model) from exc
            self._raise(exc, request)
        if events.finish is None:
            raise StreamInterrupted(
                f"{self.name} stream ended without a finish reason",
                provider=self.name,
                model=request.model,
            )
        for event in events.finish_events():
            yield event

    async def count_tokens(self, request: ModelRequest) -> int:
        params = to_chat_params(request, self._max_tokens_param)
        count = _counter(request.model)
        total = 3
        for message in params["messages"]:
            content = message.get("content")
            text = content if isinstance(content, str) else json.dumps(content or "")
            total += 3 + count(text)
            if message.get("tool_calls"):
                total += count(json.dumps(message["tool_calls"]))
        if params.get("tools"):
            total += count(json.dumps(params["tools"]))
        return total

    def _raise(self, exc: Exception, request: ModelRequest) -> NoReturn:
        if isinstance(exc, openai.APIStatusError):
            raise status_error(
                provider=self.name,
                model=request.model,
                status=exc.status_code,
                message=exc.message,
                headers=exc.response.headers,
                body=exc.body,
            ) from exc
        mapped = transport_error(
            exc,
            provider=self.name,
            model=request.model,
            timeouts=(openai.APITimeoutError, httpx2.TimeoutException),
            connections=(openai.APIConnectionError, httpx2.TransportError),
        )
        if mapped is not None:
            raise mapped from exc
        if isinstance(exc, openai.APIError):
            raise ProviderError(
                f"{self.name} failed: {exc.message}",
                provider=self.name,
                model=request.model,
                retryable=True,
            ) from exc
        raise exc


@lru_cache(maxsize=16)
def _counter(model: str) -> Any:
    """A function text -> token count for ``model`` (see the module docstring)."""
    try:
        import tiktoken

        try:
            encoding = tiktoken.encoding_for_model(model)
        except KeyError:
            encoding = tiktoken.get_encoding("o200k_base")
        return lambda text: len(encoding.encode(text, disallowed_special=()))
    except Exception:  # no encodings offline: estimate
        return lambda text: math.ceil(len(text) / 4)
