"""OpenAI (and any OpenAI-compatible server: vLLM, llama.cpp server, Ollama) through the official
``openai`` SDK, behind the canonical Anthropic-shaped protocol.

The request is translated to chat completions and the answer back (see openai_translate.py).
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

from gateway.providers.openai_translate import (
    FINISH_TO_STOP,
    to_chat_params,
    tool_input,
    usage_from_openai,
)
from gateway.providers.wire import forwardable_headers, status_error, transport_error
from gateway.stream_events import (
    block_delta,
    block_start,
    block_stop,
    message_delta,
    message_start,
    message_stop,
)
from gateway.types import ModelRequest, ModelResponse, StreamEvent, Usage
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

    async def aclose(self) -> None:
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
        try:
            completion = await self._client.chat.completions.create(**self._params(request))
        except Exception as exc:
            self._raise(exc, request)
        if not completion.choices:
            raise ProviderError(
                f"{self.name} returned no choices",
                provider=self.name,
                model=request.model,
                retryable=True,
            )
        choice = completion.choices[0]
        content: list[dict[str, Any]] = []
        if choice.message.content:
            content.append({"type": "text", "text": choice.message.content})
        for call in choice.message.tool_calls or []:
            function = getattr(call, "function", None)
            if function is None:
                continue
            content.append(
                {
                    "type": "tool_use",
                    "id": call.id,
                    "name": function.name,
                    "input": tool_input(function.arguments),
                }
            )
        return ModelResponse(
            id=completion.id,
            provider=self.name,
            model_alias=request.model,
            model_id=completion.model or request.model,
            content=content,
            stop_reason=FINISH_TO_STOP.get(str(choice.finish_reason), choice.finish_reason),
            usage=usage_from_openai(completion.usage),
        )

    async def stream(self, request: ModelRequest) -> AsyncIterator[StreamEvent]:
        params = {
            **self._params(request),
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        started = False
        finish: str | None = None
        usage = Usage()
        block: tuple[str, int] | None = None  # ("text", 0) or ("tool", openai tool index)
        index = -1
        try:
            chunks = await self._client.chat.completions.create(**params)
            async for chunk in chunks:
                if not started:
                    started = True
                    yield message_start(chunk.id, chunk.model or request.model)
                if chunk.usage is not None:
                    usage = usage_from_openai(chunk.usage)
                for choice in chunk.choices[:1]:
                    delta = choice.delta
                    if delta.content:
                        if block != ("text", 0):
                            if block is not None:
                                yield block_stop(index)
                            index, block = index + 1, ("text", 0)
                            yield block_start(index, {"type": "text", "text": ""})
                        yield block_delta(index, {"type": "text_delta", "text": delta.content})
                    for call in delta.tool_calls or []:
                        if block != ("tool", call.index):
                            if block is not None:
                                yield block_stop(index)
                            index, block = index + 1, ("tool", call.index)
                            name = call.function.name if call.function else ""
                            yield block_start(
                                index,
                                {
                                    "type": "tool_use",
                                    "id": call.id or "",
                                    "name": name or "",
                                    "input": {},
                                },
                            )
                        if call.function and call.function.arguments:
                            yield block_delta(
                                index,
                                {
                                    "type": "input_json_delta",
                                    "partial_json": call.function.arguments,
                                },
                            )
                    if choice.finish_reason:
                        finish = choice.finish_reason
        except Exception as exc:
            if started:
                raise StreamInterrupted(
                    f"{self.name} stream broke after it began: {type(exc).__name__}: {exc}",
                    provider=self.name,
                    model=request.model,
                ) from exc
            self._raise(exc, request)
        if finish is None:
            raise StreamInterrupted(
                f"{self.name} stream ended without a finish reason",
                provider=self.name,
                model=request.model,
            )
        if block is not None:
            yield block_stop(index)
        yield message_delta(FINISH_TO_STOP.get(finish, finish), None, usage)
        yield message_stop()

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
