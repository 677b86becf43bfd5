"""The emulator's deterministic token counting (one function for usage and count_tokens).

A token is a run of word characters or a single other non-space character: the regular
expression ``\\w+|[^\\w\\s]``. "Hello, world!" is 4 tokens. Whitespace is free.

What is counted, block by block (nothing else: no per-message framing, so sums are easy to
compute by hand in tests):

- ``text`` blocks (and a plain-string ``content`` or ``system``): their text;
- ``tool_use``: the name plus the JSON of ``input`` (keys sorted, compact separators);
- ``tool_result``: its content (a string, or its blocks counted recursively);
- ``thinking``: its thinking text;
- ``image`` and ``document`` with a base64 source: a flat 1,600 tokens each;
- a tool definition: name, description and the JSON of ``input_schema``;
- anything else: its JSON (without ``cache_control``).
"""

from __future__ import annotations

import re
from typing import Any

from kernel.digest import canonical_json

TOKEN_RE = re.compile(r"\w+|[^\w\s]")
MEDIA_TOKENS = 1600


def count_text(text: str) -> int:
    """Tokens of one string."""
    return sum(1 for _ in TOKEN_RE.finditer(text))


def truncate_text(text: str, max_tokens: int) -> str:
    """The longest prefix of ``text`` holding at most ``max_tokens`` tokens."""
    if max_tokens <= 0:
        return ""
    for i, match in enumerate(TOKEN_RE.finditer(text), start=1):
        if i == max_tokens:
            return text[: match.end()]
    return text


def without_cache_control(block: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in block.items() if k != "cache_control"}


def count_block(block: Any) -> int:
    """Tokens of one content block (or a bare string)."""
    if isinstance(block, str):
        return count_text(block)
    if not isinstance(block, dict):
        return count_text(canonical_json(block))
    kind = block.get("type")
    if kind == "text":
        return count_text(str(block.get("text", "")))
    if kind == "tool_use":
        return count_text(str(block.get("name", ""))) + count_text(
            canonical_json(block.get("input", {}))
        )
    if kind == "tool_result":
        content = block.get("content", "")
        if isinstance(content, list):
            return sum(count_block(b) for b in content)
        return count_text(str(content))
    if kind == "thinking":
        return count_text(str(block.get("thinking", "")))
    if kind in ("image", "document"):
        source = block.get("source") or {}
        if isinstance(source, dict) and source.get("type") == "text":
            return count_text(str(source.get("data", "")))
        return MEDIA_TOKENS
    return count_text(canonical_json(without_cache_control(block)))


def count_tool(tool: dict[str, Any]) -> int:
    """Tokens of one tool definition."""
    if "input_schema" in tool:
        return (
            count_text(str(tool.get("name", "")))
            + count_text(str(tool.get("description", "")))
            + count_text(canonical_json(tool.get("input_schema", {})))
        )
    return count_text(canonical_json(without_cache_control(tool)))
