"""Claude through the official ``anthropic`` SDK (its own retries off: the gateway retries).

The request goes out as the client sent it: tools, tool results, system blocks with
``cache_control``, ``extra_body`` fields (thinking, top-level cache_control, ...) and
``extra_headers`` (``anthropic-beta`` ...) untouched. Responses and stream events are read as the
raw JSON the API sent, so unknown or beta blocks pass back untouched too.

Failures map onto gateway.errors: HTTP errors -> ProviderStatusError (status, retry-after),
timeouts -> ProviderTimeout, connection failures -> ProviderConnectionError, and anything that
goes wrong after the stream began (an ``error`` event after HTTP 200, a cut connection, a stream
that ends without ``message_stop``) -> StreamInterrupted.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import AsyncIterator
from typing import Any, NoReturn

import anthropic
import httpx2

from gateway.errors import (
    InvalidRequest,
    ProviderConnectionError,
    ProviderError,
    ProviderTimeout,
    StreamInterrupted,
)
from gateway.providers.wire import (
    StreamUsage,
    forwardable_headers,
    status_error,
    usage_from_anthropic,
)
from gateway.types import ModelRequest, ModelResponse, StreamEvent

DEFAULT_TIMEOUT_S = 600.0
_EVENT_TYPES = frozenset(
    {
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
        "ping",
    }
)
_DECLARED = frozenset(inspect.signature(anthropic.resources.AsyncMessages.create).parameters)
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
    ) -> None:
        self.name = name
        # An explicit timeout also stops the SDK refusing large non-streaming max_tokens.
        self._client = anthropic.AsyncAnthropic(
            api_key=api_key,
            base_url=base_url,
            http_client=http_client,
            max_retries=0,
            timeout=timeout if timeout is not None else DEFAULT_TIMEOUT_S,
        )

    async def aclose(self) -> None:
        await self._client.close()

    # The protocol -----------------------------------------------------------------------------
    async def complete(self, request: ModelRequest) -> ModelResponse:
        try:
            raw = await self._client.messages.with_raw_response.create(**self._params(request))
            data = await raw.json()
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

    async def stream(self, request: ModelRequest) -> AsyncIterator[StreamEvent]:
        params = self._params(request)
        started = False
        finished = False
        usage = StreamUsage()
        try:
            async with self._client.messages.with_streaming_response.create(
                **params, stream=True
            ) as raw:
                async for sse in anthropic.AsyncStream.raw_events(raw.http_response):
                    if sse.event == "error":
                        raise StreamInterrupted(
                            f"{self.name} sent an error event after HTTP 200: {sse.data}",
                            provider=self.name,
                            model=request.model,
                            details=_error_details(sse.data),
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
        except (StreamInterrupted, GeneratorExit):
            raise
        except anthropic.APIStatusError as exc:
            if exc.status_code < 400:  # an error event the SDK turned into an exception
                raise StreamInterrupted(str(exc), provider=self.name, model=request.model) from exc
            raise self._status(exc, request) from exc
        except Exception as exc:
            if started:
                raise StreamInterrupted(
                    f"{self.name} stream broke after it began: {type(exc).__name__}: {exc}",
                    provider=self.name,
                    model=request.model,
                ) from exc
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
    def _params(self, request: ModelRequest) -> dict[str, Any]:
        params: dict[str, Any] = {
            "model": request.model,
            "messages": request.messages,
            "max_tokens": request.max_tokens,
        }
        # Fields this SDK version does not declare (anthropic 2.x dropped temperature/top_p
        # from the signature) travel in extra_body: the API receives the same JSON either way.
        extra: dict[str, Any] = {}
        for key in _FIELDS:
            value = getattr(request, key)
            if value is not None:
                (params if key in _DECLARED else extra)[key] = value
        extra.update({k: v for k, v in request.extra_body.items() if k != "stream"})
        if extra:
            params["extra_body"] = extra
        if request.extra_headers:
            params["extra_headers"] = forwardable_headers(request.extra_headers)
        return params

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
        if isinstance(exc, anthropic.APITimeoutError | httpx2.TimeoutException):
            raise ProviderTimeout(
                f"{self.name} timed out", provider=self.name, model=request.model
            ) from exc
        if isinstance(exc, anthropic.APIConnectionError | httpx2.TransportError):
            cause = exc.__cause__ or exc
            raise ProviderConnectionError(
                f"{self.name} connection failed: {type(cause).__name__} {cause}".rstrip(),
                provider=self.name,
                model=request.model,
            ) from exc
        if isinstance(exc, ValueError | TypeError) and not isinstance(exc, json.JSONDecodeError):
            raise InvalidRequest(f"{self.name} rejected the request: {exc}") from exc
        if isinstance(exc, json.JSONDecodeError):
            raise ProviderError(
                f"{self.name} returned invalid JSON: {exc}",
                provider=self.name,
                model=request.model,
                retryable=True,
            ) from exc
        raise exc


def _error_details(data: str) -> dict[str, Any]:
    try:
        body = json.loads(data)
    except ValueError:
        return {"raw": data}
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return {"type": error.get("type"), "upstream_message": error.get("message")}
    return {}
