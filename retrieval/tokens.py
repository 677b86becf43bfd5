"""Counting tokens locally, for budgets and for the cache-padding decision.

Claude's tokenizer is not public; ``cl100k_base`` (tiktoken, shipped offline by
llama-index-core) is a close stand-in for English text, and a characters/4 estimate is the
fallback when tiktoken is missing. Budgets leave a margin for the difference.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Protocol


class PromptTokenCounter(Protocol):
    """Counts prompt tokens as a model provider would, approximately (budgets, padding)."""

    def __call__(self, text: str) -> int: ...


def estimate_tokens(text: str) -> int:
    """About one token per 4 characters (one per character for CJK-heavy text is higher)."""
    return math.ceil(len(text) / 4) if text else 0


@lru_cache(maxsize=1)
def _encoding() -> object | None:
    try:
        import tiktoken

        return tiktoken.get_encoding("cl100k_base")
    except Exception:  # offline without the cached encoding, or tiktoken missing
        return None


def count_tokens(text: str) -> int:
    """Tokens of ``text`` by cl100k_base, or the 4-characters estimate without tiktoken."""
    enc = _encoding()
    if enc is None:
        return estimate_tokens(text)
    return len(enc.encode(text, disallowed_special=()))  # type: ignore[attr-defined]
