"""What a request may cost at most, before it is sent (the amount reserved on budgets).

Prompt tokens are counted locally (never by calling a provider on the hot path): one token per
three UTF-8 bytes of every text the request carries, rounded up. That over-counts English
(about four characters a token) and matches CJK (three bytes, about one token, a character),
so the estimate stays on the safe side.

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

BYTES_PER_TOKEN = 3


def _text_bytes(value: Any) -> int:
    if isinstance(value, str):
        return len(value.encode("utf-8"))
    if isinstance(value, dict):
        total = 0
        for k, v in value.items():
            if k in ("cache_control", "type"):
                continue
            if k == "data" and isinstance(v, str) and value.get("type") == "base64":
                total += 1600 * BYTES_PER_TOKEN  # an image or document page: ~1,600 tokens
                continue
            total += _text_bytes(v)
        return total
    if isinstance(value, list):
        return sum(_text_bytes(v) for v in value)
    if value is None or isinstance(value, bool):
        return 0
    return len(json.dumps(value))


def estimate_prompt_tokens(request: ModelRequest) -> int:
    """A cheap, conservative count of the input tokens of ``request``."""
    size = _text_bytes(request.system) + _text_bytes(request.messages)
    if request.tools:
        size += len(json.dumps(request.tools, ensure_ascii=False).encode("utf-8"))
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
