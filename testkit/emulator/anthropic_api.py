"""The Anthropic Messages API, emulated: /v1/messages (JSON and SSE), count_tokens, models."""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

from testkit.emulator.asgi import (
    Scope,
    Send,
    Transports,
    header,
    reset_connection,
    send_json,
    send_sse,
    send_truncated_json,
    sse_event,
)
from testkit.emulator.prompt_cache import CacheRuleError, CacheUsage, request_blocks
from testkit.emulator.replies import Rendered, render, text_pieces
from testkit.emulator.state import EmulatorState
from testkit.faults import Fault

ORGANIZATION_ID = "0e0e0e0e-0000-4000-8000-000000000001"
RATE_LIMIT = 4000
ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    408: "timeout_error",
    409: "conflict_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}
# With this beta (Claude Code sends it), ``system`` messages may stand between the turns.
SYSTEM_MESSAGES_BETA = "mid-conversation-tool-changes-"


def message_roles(scope: Scope) -> tuple[str, ...]:
    """The message roles a request may use: ``system`` too under ``SYSTEM_MESSAGES_BETA``."""
    betas = (header(scope, "anthropic-beta") or "").split(",")
    if any(b.strip().startswith(SYSTEM_MESSAGES_BETA) for b in betas):
        return ("user", "assistant", "system")
    return ("user", "assistant")


class AnthropicApi:
    def __init__(self, state: EmulatorState, transports: Transports) -> None:
        self.state = state
        self.transports = transports

    # Headers and errors -----------------------------------------------------------------------
    def headers(self, request_id: str, *, exhausted: bool = False) -> dict[str, str]:
        reset = (datetime.now(UTC) + timedelta(seconds=60)).replace(microsecond=0)
        stamp = reset.isoformat().replace("+00:00", "Z")
        remaining = "0" if exhausted else str(RATE_LIMIT - 1)
        out = {"request-id": request_id, "anthropic-organization-id": ORGANIZATION_ID}
        for kind, limit in (
            ("requests", RATE_LIMIT),
            ("tokens", 2_000_000),
            ("input-tokens", 2_000_000),
            ("output-tokens", 400_000),
        ):
            out[f"anthropic-ratelimit-{kind}-limit"] = str(limit)
            out[f"anthropic-ratelimit-{kind}-remaining"] = (
                remaining if kind == "requests" else str(limit)
            )
            out[f"anthropic-ratelimit-{kind}-reset"] = stamp
        return out

    async def error(
        self,
        send: Send,
        status: int,
        message: str,
        request_id: str,
        retry_after: float | None = None,
    ) -> None:
        body = {
            "type": "error",
            "error": {"type": ERROR_TYPES.get(status, "api_error"), "message": message},
            "request_id": request_id,
        }
        headers = self.headers(request_id, exhausted=status == 429)
        if retry_after is not None:
            headers["retry-after"] = str(max(0, math.ceil(retry_after)))
            headers["retry-after-ms"] = str(max(0, round(retry_after * 1000)))
        if status >= 500:
            headers["x-should-retry"] = "true"
        await send_json(send, status, body, headers)

    def request_id(self) -> str:
        return f"req_emu{self.state.next_id():021d}"

    # Endpoints --------------------------------------------------------------------------------
    async def models(self, send: Send) -> None:
        data = [
            {"type": "model", "id": m, "display_name": m, "created_at": "2026-01-01T00:00:00Z"}
            for m in self.state.models
        ]
        body = {
            "data": data,
            "has_more": False,
            "first_id": data[0]["id"] if data else None,
            "last_id": data[-1]["id"] if data else None,
        }
        await send_json(send, 200, body, self.headers(self.request_id()))

    def _validate(
        self, body: Any, *, need_max_tokens: bool, roles: tuple[str, ...] = ("user", "assistant")
    ) -> str | None:
        if not isinstance(body, dict):
            return "body: Input should be a valid JSON object"
        required = ("model", "messages", "max_tokens") if need_max_tokens else ("model", "messages")
        for name in required:
            if name not in body:
                return f"{name}: Field required"
        if not isinstance(body["model"], str) or not body["model"]:
            return "model: Input should be a non-empty string"
        if not isinstance(body["messages"], list) or not body["messages"]:
            return "messages: at least one message is required"
        for i, message in enumerate(body["messages"]):
            if not isinstance(message, dict) or message.get("role") not in roles:
                allowed = " or ".join(f"'{r}'" for r in roles)
                return f"messages.{i}.role: Input should be {allowed}"
            if "content" not in message:
                return f"messages.{i}.content: Field required"
        if need_max_tokens and (not isinstance(body["max_tokens"], int) or body["max_tokens"] < 1):
            return "max_tokens: Input should be greater than or equal to 1"
        return None

    async def count_tokens(self, scope: Scope, send: Send, body: Any) -> None:
        rid = self.request_id()
        problem = self._validate(body, need_max_tokens=False, roles=message_roles(scope))
        if problem:
            await self.error(send, 400, problem, rid)
            return
        try:
            total = sum(b.tokens for b in request_blocks(body))
        except CacheRuleError as exc:
            await self.error(send, 400, str(exc), rid)
            return
        await send_json(send, 200, {"input_tokens": total}, self.headers(rid))

    async def messages(self, scope: Scope, send: Send, body: Any) -> None:
        rid = self.request_id()
        problem = self._validate(body, need_max_tokens=True, roles=message_roles(scope))
        if problem:
            await self.error(send, 400, problem, rid)
            return
        try:
            blocks = request_blocks(body)
        except CacheRuleError as exc:
            await self.error(send, 400, str(exc), rid)
            return
        model = body["model"]
        fault = self.state.faults.take(model)
        if self.state.latency_s > 0:
            await asyncio.sleep(self.state.latency_s)
        if fault is not None:
            if fault.kind == "status":
                await self.error(
                    send, fault.status_code, fault.status_message, rid, fault.retry_after
                )
                return
            if fault.kind == "slow":
                await asyncio.sleep(fault.seconds)
            elif fault.kind == "reset":
                await reset_connection(scope, self.transports)
                return
        try:
            usage = self.state.cache.apply(model, blocks)
        except CacheRuleError as exc:
            await self.error(send, 400, str(exc), rid)
            return
        rendered = render(
            self.state.reply_for(body),
            max_tokens=body["max_tokens"],
            stops=list(body.get("stop_sequences") or []),
            new_tool_id=lambda: f"toolu_emu{self.state.next_id():020d}",
        )
        msg_id = f"msg_emu{self.state.next_id():021d}"
        broken = fault is not None and fault.kind == "error_after_start"
        if body.get("stream"):
            events = self._events(msg_id, model, rendered, usage, fault if broken else None, rid)
            await send_sse(send, self.headers(rid), events)
            return
        message = {
            "id": msg_id,
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": rendered.blocks,
            "stop_reason": rendered.stop_reason,
            "stop_sequence": rendered.stop_sequence,
            "usage": usage.usage_json(rendered.output_tokens),
        }
        if broken:
            await send_truncated_json(scope, send, self.transports, message, self.headers(rid))
            return
        await send_json(send, 200, message, self.headers(rid))

    # Streaming --------------------------------------------------------------------------------
    async def _events(
        self,
        msg_id: str,
        model: str,
        rendered: Rendered,
        usage: CacheUsage,
        fault: Fault | None,
        request_id: str,
    ) -> AsyncIterator[bytes]:
        start_usage = usage.usage_json(1)
        yield sse_event(
            "message_start",
            {
                "type": "message_start",
                "message": {
                    "id": msg_id,
                    "type": "message",
                    "role": "assistant",
                    "model": model,
                    "content": [],
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": start_usage,
                },
            },
        )
        for index, block in enumerate(rendered.blocks):
            kind = block.get("type")
            if kind == "text":
                start: dict[str, Any] = {"type": "text", "text": ""}
                pieces = [{"type": "text_delta", "text": p} for p in text_pieces(block["text"])]
            elif kind == "tool_use":
                start = {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}
                raw = json.dumps(block.get("input", {}), separators=(",", ":"))
                pieces = [
                    {"type": "input_json_delta", "partial_json": raw[i : i + 16]}
                    for i in range(0, len(raw), 16)
                ]
            else:
                start, pieces = block, []
            yield sse_event(
                "content_block_start",
                {"type": "content_block_start", "index": index, "content_block": start},
            )
            if index == 0:
                yield sse_event("ping", {"type": "ping"})
            for n, delta in enumerate(pieces):
                if self.state.delta_interval_s > 0:
                    await asyncio.sleep(self.state.delta_interval_s)
                yield sse_event(
                    "content_block_delta",
                    {"type": "content_block_delta", "index": index, "delta": delta},
                )
                if fault is not None and n == 0:
                    yield sse_event(
                        "error",
                        {
                            "type": "error",
                            "error": {"type": fault.error_type, "message": fault.message},
                            "request_id": request_id,
                        },
                    )
                    return
            if fault is not None:
                yield sse_event(
                    "error",
                    {
                        "type": "error",
                        "error": {"type": fault.error_type, "message": fault.message},
                        "request_id": request_id,
                    },
                )
                return
            yield sse_event("content_block_stop", {"type": "content_block_stop", "index": index})
        final = usage.usage_json(rendered.output_tokens)
        final_usage = {
            k: final[k]
            for k in (
                "input_tokens",
                "cache_creation_input_tokens",
                "cache_read_input_tokens",
                "output_tokens",
            )
        }
        yield sse_event(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {
                    "stop_reason": rendered.stop_reason,
                    "stop_sequence": rendered.stop_sequence,
                },
                "usage": final_usage,
            },
        )
        yield sse_event("message_stop", {"type": "message_stop"})
