"""OpenAI's automatic prompt caching, emulated: prefixes of 1,024 tokens and more, in steps of 128.

The chat request is flattened to one token sequence (tools, then each message's role and
content). Every request records the hash of its prefix at each step (1,024, 1,152, ...); a later
request with the same model reads the longest recorded prefix that is still alive (5 minutes on
the injected clock, refreshed by a read) and reports it as ``prompt_tokens_details.cached_tokens``.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from typing import Any

from kernel.digest import canonical_json
from testkit.emulator.tokens import TOKEN_RE

FIRST_STEP = 1024
STEP = 128
TTL_SECONDS = 300.0


def _message_text(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, str):
        text = content
    elif isinstance(content, list):
        text = "\n".join(
            str(p.get("text", "")) if p.get("type") == "text" else canonical_json(p)
            for p in content
            if isinstance(p, dict)
        )
    else:
        text = ""
    if message.get("tool_calls"):
        text += canonical_json(message["tool_calls"])
    return f"{message.get('role', '')}\n{text}\n"


def chat_tokens(body: dict[str, Any]) -> list[str]:
    """The token sequence of a chat completions request (its prompt)."""
    parts = [canonical_json(t) for t in body.get("tools") or []]
    parts.extend(_message_text(m) for m in body.get("messages") or [] if isinstance(m, dict))
    return TOKEN_RE.findall("\n".join(parts))


class AutoPrefixCache:
    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._entries: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def apply(self, model: str, tokens: list[str]) -> int:
        """Record this prompt's prefixes; return how many of its tokens were cached."""
        if len(tokens) < FIRST_STEP:
            return 0
        now = self._clock()
        digest = hashlib.sha256(model.encode())
        done = 0
        cached = 0
        with self._lock:
            for end in range(FIRST_STEP, len(tokens) + 1, STEP):
                for tok in tokens[done:end]:
                    digest.update(tok.encode())
                    digest.update(b"\x00")
                done = end
                key = digest.copy().hexdigest()
                entry = self._entries.get(key)
                if entry is not None and entry[0] > now:
                    cached = end
                self._entries[key] = (now + TTL_SECONDS, TTL_SECONDS)
            if len(self._entries) > 50_000:
                for k in [k for k, (exp, _) in self._entries.items() if exp <= now]:
                    del self._entries[k]
        return cached
