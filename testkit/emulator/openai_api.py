"""The OpenAI chat completions API, emulated: /v1/chat/completions (JSON and SSE), models."""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import AsyncIterator
from typing import Any

from testkit.emulator.asgi import (
    Scope,
    Send,
    Transports,
    reset_connection,
    send_json,
    send_sse,
    send_truncated_json,
    sse_event,
)
from testkit.emulator.openai_cache import chat_tokens
from testkit.emulator.replies import Rendered, render, text_pieces
from testkit.emulator.state import EmulatorState
from testkit.faults import Fault

FINISH_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
}
ERROR_SHAPES: dict[int, tuple[str, str | None]] = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("invalid_request_error", "unsupported_country_region_territory"),
    404: ("invalid_request_error", "model_not_found"),
    429: ("requests", "rate_limit_exceeded"),
    500: ("server_error", None),
    503: ("server_error", "service_unavailable"),
}
CREATED = 1767225600  # 2026-01-01, fixed so answers are byte-for-byte repeatable


class OpenAIApi:
    def __init__(self, state: EmulatorState, transports: Transports) -> None:
        self.state = state
        self.transports = transports

    def headers(self, request_id: str, *, exhausted: bool = False) -> dict[str, str]:
        return {
            "x-request-id": request_id,
            "openai-version": "2020-10-01",
            "openai-processing-ms": "1",
            "x-ratelimit-limit-requests": "10000",
            "x-ratelimit-remaining-requests": "0" if exhausted else "9999",
            "x-ratelimit-reset-requests": "6ms",
            "x-ratelimit-limit-tokens": "30000000",
            "x-ratelimit-remaining-tokens": "30000000",
            "x-ratelimit-reset-tokens": "0s",
        }

    def request_id(self) -> str:
        return f"req_{self.state.next_id():032x}"

    async def error(
        self,
        send: Send,
        status: int,
        message: str,
        request_id: str,
        *,
        retry_after: float | None = None,
        param: str | None = None,
        code: str | None = None,
    ) -> None:
        kind, default_code = ERROR_SHAPES.get(
            status, ("server_error" if status >= 500 else "invalid_request_error", None)
        )
        body = {
            "error": {
                "message": message,
                "type": kind,
                "param": param,
                "code": code or default_code,
            }
        }
        headers = self.headers(request_id, exhausted=status == 429)
        if retry_after is not None:
            headers["retry-after"] = str(max(0, math.ceil(retry_after)))
            headers["retry-after-ms"] = str(max(0, round(retry_after * 1000)))
        await send_json(send, status, body, headers)

    async def models(self, send: Send) -> None:
        data = [
            {"id": m, "object": "model", "created": CREATED, "owned_by": "loregate-emulator"}
            for m in self.state.models
        ]
        await send_json(
            send, 200, {"object": "list", "data": data}, self.headers(self.request_id())
        )

    def _problem(self, body: Any) -> tuple[str, str | None, str | None] | None:
        if not isinstance(body, dict):
            return ("We could not parse the JSON body of your request.", None, None)
        if not body.get("model"):
            return ("you must provide a model parameter", None, None)
        messages = body.get("messages")
        if messages is None:
            return (
                "Missing required parameter: 'messages'.",
                "messages",
                "missing_required_parameter",
            )
        if not isinstance(messages, list) or not messages:
            return (
                "Invalid 'messages': empty array. Expected an array with minimum length 1, "
                "but got an empty array instead.",
                "messages",
                "empty_array",
            )
        return None

    async def chat(self, scope: Scope, send: Send, body: Any) -> None:
        rid = self.request_id()
        problem = self._problem(body)
        if problem:
            await self.error(send, 400, problem[0], rid, param=problem[1], code=problem[2])
            return
        model = str(body["model"])
        fault = self.state.faults.take(model)
        if self.state.latency_s > 0:
            await asyncio.sleep(self.state.latency_s)
        if fault is not None:
            if fault.kind == "status":
                await self.error(
                    send,
                    fault.status_code,
                    fault.status_message,
                    rid,
                    retry_after=fault.retry_after,
                )
                return
            if fault.kind == "slow":
                await asyncio.sleep(fault.seconds)
            elif fault.kind == "reset":
                await reset_connection(scope, self.transports)
                return
        tokens = chat_tokens(body)
        cached = self.state.openai_cache.apply(model, tokens)
        stop = body.get("stop")
        stops = [stop] if isinstance(stop, str) else list(stop or [])
        limit = body.get("max_completion_tokens") or body.get("max_tokens") or 1_000_000
        rendered = render(
            self.state.reply_for(body),
            max_tokens=int(limit),
            stops=stops,
            new_tool_id=lambda: f"call_emu{self.state.next_id():020d}",
        )
        usage = self._usage(len(tokens), cached, rendered.output_tokens)
        completion_id = f"chatcmpl-emu{self.state.next_id():020d}"
        broken = fault is not None and fault.kind == "error_after_start"
        if body.get("stream"):
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            chunks = self._chunks(
                completion_id, model, rendered, usage, include_usage, fault if broken else None
            )
            await send_sse(send, self.headers(rid), chunks)
            return
        message: dict[str, Any] = {
            "role": "assistant",
            "content": rendered.text or None,
            "refusal": None,
            "annotations": [],
        }
        calls = _tool_calls(rendered)
        if calls:
            message["tool_calls"] = calls
        completion = {
            "id": completion_id,
            "object": "chat.completion",
            "created": CREATED,
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "logprobs": None,
                    "finish_reason": FINISH_REASONS[rendered.stop_reason],
                }
            ],
            "usage": usage,
            "service_tier": "default",
            "system_fingerprint": "fp_emulator",
        }
        if broken:
            await send_truncated_json(scope, send, self.transports, completion, self.headers(rid))
            return
        await send_json(send, 200, completion, self.headers(rid))

    @staticmethod
    def _usage(prompt: int, cached: int, completion: int) -> dict[str, Any]:
        return {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": 0,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        }

    async def _chunks(
        self,
        completion_id: str,
        model: str,
        rendered: Rendered,
        usage: dict[str, Any],
        include_usage: bool,
        fault: Fault | None,
    ) -> AsyncIterator[bytes]:
        def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
            data: dict[str, Any] = {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": CREATED,
                "model": model,
                "service_tier": "default",
                "system_fingerprint": "fp_emulator",
                "choices": [
                    {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
                ],
            }
            if include_usage:
                data["usage"] = None
            return sse_event(None, data)

        yield chunk({"role": "assistant", "content": "", "refusal": None})
        deltas: list[dict[str, Any]] = [{"content": p} for p in text_pieces(rendered.text)]
        for i, call in enumerate(_tool_calls(rendered)):
            args = call["function"]["arguments"]
            deltas.append(
                {
                    "tool_calls": [
                        {
                            "index": i,
                            "id": call["id"],
                            "type": "function",
                            "function": {"name": call["function"]["name"], "arguments": ""},
                        }
                    ]
                }
            )
            deltas.extend(
                {"tool_calls": [{"index": i, "function": {"arguments": args[j : j + 16]}}]}
                for j in range(0, len(args), 16)
            )
        for n, delta in enumerate(deltas):
            yield chunk(delta)
            if fault is not None and n == 0:
                break
        if fault is not None:
            yield sse_event(
                None,
                {
                    "error": {
                        "message": fault.message,
                        "type": "server_error",
                        "param": None,
                        "code": None,
                    }
                },
            )
            return
        yield chunk({}, FINISH_REASONS[rendered.stop_reason])
        if include_usage:
            yield sse_event(
                None,
                {
                    "id": completion_id,
                    "object": "chat.completion.chunk",
                    "created": CREATED,
                    "model": model,
                    "service_tier": "default",
                    "system_fingerprint": "fp_emulator",
                    "choices": [],
                    "usage": usage,
                },
            )
        yield sse_event(None, "[DONE]")


def _tool_calls(rendered: Rendered) -> list[dict[str, Any]]:
    return [
        {
            "id": b["id"],
            "type": "function",
            "function": {"name": b["name"], "arguments": json.dumps(b.get("input", {}))},
        }
        for b in rendered.blocks
        if b.get("type") == "tool_use"
    ]
