"""What a request may cost at most, before it is sent (the amount reserved on budgets).

Prompt tokens are counted locally (never by calling a provider on the hot path): one token per
three UTF-8 bytes of every text the request carries and of its tools' schemas (compact JSON),
rounded up. That over-counts English (about four characters a token) and matches CJK (three
bytes, about one token, a character), so the estimate stays on the safe side.

The cost bound walks the route: each tier may be tried (escalation), and inside a tier the
dearest candidate may answer (fallback). For every tier it takes the dearest candidate's
``estimate_nano_usd`` (input at the highest input-side price plus ``max_tokens`` at the output
price) and sums the tiers.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from gateway.config import ModelSpec
from gateway.pricing import estimate_nano_usd
from gateway.types import ModelRequest
from kernel.json_bytes import compact_json_bytes

BYTES_PER_TOKEN = 3


# A base64 image or document page: about 1,600 tokens, whatever the size of its data.
IMAGE_BYTES = 1600 * BYTES_PER_TOKEN
_NOT_TEXT = frozenset({"cache_control", "type"})


def _text_bytes(value: Any) -> int:
    """UTF-8 bytes of every text in ``value`` (a request's system prompt or messages).

    A loop over a stack rather than a call per node: a coding agent's request carries tens of
    thousands of blocks and strings (its whole conversation, every time), and a recursive walk
    cost about 100 µs per 100 KB on the event loop, before the request could go upstream."""
    total = 0
    todo = [value]
    pop, push, extend = todo.pop, todo.append, todo.extend
    while todo:
        v = pop()
        kind = type(v)
        if kind is str:
            total += len(v) if v.isascii() else len(v.encode("utf-8"))
        elif kind is dict:
            base64 = v.get("type") == "base64"
            for k, item in v.items():
                if k in _NOT_TEXT:
                    continue
                if base64 and k == "data" and isinstance(item, str):
                    total += IMAGE_BYTES
                else:
                    push(item)
        elif kind is list:
            extend(v)
        elif v is None or isinstance(v, bool):
            continue
        elif isinstance(v, str):  # a str subclass (an enum's value)
            total += len(v.encode("utf-8"))
        elif isinstance(v, dict | list):  # subclasses, walked as above
            push(dict(v) if isinstance(v, dict) else list(v))
        else:  # a number
            total += len(json.dumps(v))
    return total


def estimate_prompt_tokens(request: ModelRequest) -> int:
    """A cheap, conservative count of the input tokens of ``request``."""
    size = _text_bytes(request.system) + _text_bytes(request.messages)
    if request.tools:
        size += len(compact_json_bytes(request.tools))  # tens of KB for an agent
    per_message = 4 * len(request.messages)  # role markers and separators
    return -(-size // BYTES_PER_TOKEN) + per_message


def worst_case_nano(
    tiers: Sequence[Sequence[ModelSpec]], prompt_tokens: int, max_tokens: int
) -> int:
    """The most ``route`` can cost: the dearest candidate of every tier, all tiers tried."""
    total = 0
    for specs in tiers:
        if specs:
            total += max(
                estimate_nano_usd(s, prompt_tokens, min(max_tokens, s.max_output_tokens))
                for s in specs
            )
    return total
