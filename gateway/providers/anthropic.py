"""Claude through the official ``anthropic`` SDK (its own retries off: the gateway retries).

The request goes out as the client sent it: tools, tool results, system blocks with
``cache_control``, ``extra_body`` fields (thinking, top-level cache_control, ...) and
``extra_headers`` (``anthropic-beta`` ...) untouched. Responses and stream events are read as the
raw JSON the API sent, so unknown or beta blocks pass back untouched too.

The body is already the Messages API's wire JSON, so it is sent through the SDK's generic
``post`` rather than ``messages.create`` (see ``anthropic_sdk``, where the SDK is used beyond
its typed methods).

Failures map onto kernel.errors: HTTP errors -> ProviderStatusError (status, retry-after),
timeouts -> ProviderTimeout, connection failures -> ProviderConnectionError, and anything that
goes wrong after the stream began (an ``error`` event after HTTP 200, a cut connection, a stream
that ends without ``message_stop``) -> StreamInterrupted.

With ``passthrough=True`` a request that carries the client's own Messages API body
(``ModelRequest.wire``) skips the SDK: see ``anthropic_passthrough.py``; the rest (OpenAI-format
clients, bodies changed by governance, ``count_tokens``) still goes through the SDK.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any, NoReturn

import anthropic
import httpx2

from gateway.providers import anthropic_passthrough
from gateway.providers.anthropic_sdk import post_messages, raw_events
from gateway.providers.passthrough import usable
from gateway.providers.wire import (
    broken_stream,
    forwardable_headers,
    status_error,
    transport_error,
)
from gateway.types import ModelRequest, ModelResponse, StreamEvent
from gateway.usage import CumulativeUsage, usage_from_anthropic
from kernel.errors import (
    ProviderError,
    StreamInterrupted,
)

DEFAULT_TIMEOUT_S = 600.0
_EVENT_TYPES = anthropic_passthrough.EVENT_TYPES
_FIELDS = ("system", "temperature", "top_p", "stop_sequences", "tools", "tool_choice", "metadata")


class AnthropicProvider:
    """``http_client`` is an ``httpx2.AsyncClient`` (the transport the anthropic 2.x SDK uses)."""

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str | None = None,
        http_client: httpx2.AsyncClient | None = None,
        name: str = "anthropic",
        timeout: float | None = None,
        passthrough: bool = False,
    ) -> None:
        self.name = name
        self._timeout = timeout if timeout is not None else DEFAULT_TIMEOUT_S
        # An explicit timeout also stops the SDK refusing large non-streaming max_tokens.
        self._client = anthropic.AsyncAnthropic(
            api_key=api_key,
            base_url=base_url,
            http_client=http_client,
            max_retries=0,
            timeout=self._timeout,
        )
        self._pool = (
            anthropic_passthrough.anthropic_pool(api_key, base_url, self._timeout, name)
            if passthrough
            else None
        )

    async def aclose(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()
        await self._client.close()

    # The protocol -----------------------------------------------------------------------------
    async def complete(self, request: ModelRequest) -> ModelResponse:
        if self._pool is not None and usable(request, "anthropic") is not None:
            return await anthropic_passthrough.complete(self._pool, request)
        body, headers = self._wire(request)
        try:
            raw = await post_messages(self._client, body, headers, self._timeout)
            data = raw.json()
        except anthropic.APIStatusError as exc:
            raise self._status(exc, request) from exc
        except Exception as exc:
            self._raise_transport(exc, request)
        if not isinstance(data, dict):
            raise ProviderError(
                f"{self.name} returned a non-object body",
                provider=self.name,
                model=request.model,
                retryable=True,
            )
        return self._response(data, request)

    def stream(self, request: ModelRequest) -> AsyncIterator[StreamEvent]:
        if self._pool is not None and usable(request, "anthropic") is not None:
            return anthropic_passthrough.stream(self._pool, request)
        return self._sdk_stream(request)

    async def _sdk_stream(self, request: ModelRequest) -> AsyncIterator[StreamEvent]:
        body, headers = self._wire(request)
        body["stream"] = True
        started = False
        finished = False
        usage = CumulativeUsage()
        try:
            raw = await post_messages(self._client, body, headers, self._timeout, stream=True)
            try:
                async for sse in raw_events(raw):
                    if sse.event == "error":
                        raise StreamInterrupted(
                            f"{self.name} sent an error event after HTTP 200: {sse.data}",
                            provider=self.name,
                            model=request.model,
                            details=anthropic_passthrough.error_details(sse.data.encode()),
                        )
                    if sse.event not in _EVENT_TYPES or not sse.data:
                        continue
                    data = json.loads(sse.data)
                    if sse.event == "message_start":
                        usage.update(data.get("message", {}).get("usage"))
                    elif sse.event == "message_delta":
                        usage.update(data.get("usage"))
                        data = {**data, "usage": usage.as_json()}
                    elif sse.event == "message_stop":
                        finished = True
                    started = True
                    yield StreamEvent(type=sse.event, data=data)
            finally:
                await raw.aclose()
        except (StreamInterrupted, GeneratorExit):
            raise
        except anthropic.APIStatusError as exc:
            if exc.status_code < 400:  # an error event the SDK turned into an exception
                raise StreamInterrupted(str(exc), provider=self.name, model=request.model) from exc
            raise self._status(exc, request) from exc
        except Exception as exc:
            if started:
                raise broken_stream(exc, provider=self.name, model=request.model) from exc
            self._raise_transport(exc, request)
        if not finished:
            raise StreamInterrupted(
                f"{self.name} stream ended without message_stop",
                provider=self.name,
                model=request.model,
            )

    async def count_tokens(self, request: ModelRequest) -> int:
        params: dict[str, Any] = {"model": request.model, "messages": request.messages}
        for key in ("system", "tools", "tool_choice"):
            value = getattr(request, key)
            if value is not None:
                params[key] = value
        if request.extra_headers:
            params["extra_headers"] = forwardable_headers(request.extra_headers)
        try:
            result = await self._client.messages.count_tokens(**params)
        except anthropic.APIStatusError as exc:
            raise self._status(exc, request) from exc
        except Exception as exc:
            self._raise_transport(exc, request)
        return int(result.input_tokens)

    # Helpers ----------------------------------------------------------------------------------
    def _wire(self, request: ModelRequest) -> tuple[dict[str, Any], dict[str, str]]:
        """The Messages API body and the headers to forward (``anthropic-beta`` ...)."""
        body: dict[str, Any] = {
            "model": request.model,
            "messages": request.messages,
            "max_tokens": request.max_tokens,
        }
        for key in _FIELDS:
            value = getattr(request, key)
            if value is not None:
                body[key] = value
        body.update({k: v for k, v in request.extra_body.items() if k != "stream"})
        headers = forwardable_headers(request.extra_headers) if request.extra_headers else {}
        return body, headers

    def _response(self, data: dict[str, Any], request: ModelRequest) -> ModelResponse:
        return ModelResponse(
            id=str(data.get("id", "")),
            provider=self.name,
            model_alias=request.model,
            model_id=str(data.get("model") or request.model),
            content=list(data.get("content") or []),
            stop_reason=data.get("stop_reason"),
            stop_sequence=data.get("stop_sequence"),
            usage=usage_from_anthropic(data.get("usage")),
        )

    def _status(self, exc: anthropic.APIStatusError, request: ModelRequest) -> ProviderError:
        return status_error(
            provider=self.name,
            model=request.model,
            status=exc.status_code,
            message=exc.message,
            headers=exc.response.headers,
            body=exc.body,
        )

    def _raise_transport(self, exc: Exception, request: ModelRequest) -> NoReturn:
        mapped = transport_error(
            exc,
            provider=self.name,
            model=request.model,
            timeouts=(anthropic.APITimeoutError, httpx2.TimeoutException),
            connections=(anthropic.APIConnectionError, httpx2.TransportError),
        )
        if mapped is None:
            raise exc
        raise mapped from exc
