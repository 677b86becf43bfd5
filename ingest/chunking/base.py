"""What every chunker shares: the config, token counting, sentence splitting and packing.

Sizes are in the embedding model's tokens (word pieces). A chunk's text is a short context
header (document title, clause path or heading breadcrumb) plus a body; header and body
together stay within ``ChunkingConfig.max_tokens`` and the model's window, so nothing is
truncated by the model.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Protocol

CHUNKER_VERSION = "1"


class EmbeddingTokenCounter(Protocol):
    """Counts in the embedding model's own tokens (the embedder itself; chunk sizes)."""

    def count_tokens(self, text: str) -> int: ...

    def count_tokens_batch(self, texts: Sequence[str]) -> list[int]: ...


@dataclass(frozen=True)
class ChunkingConfig:
    max_tokens: int = 200  # header + body, in the embedding model's tokens
    header_max_tokens: int = 48  # the context header is cut to this
    model_window: int = 256  # the model reads this many tokens (MiniLM: 256)

    def __post_init__(self) -> None:
        if self.max_tokens < 32:
            raise ValueError("max_tokens must be >= 32")
        if not 8 <= self.header_max_tokens < self.max_tokens // 2:
            raise ValueError("header_max_tokens must be >= 8 and < max_tokens / 2")

    @property
    def budget(self) -> int:
        """Tokens a chunk may hold: the configured size, within the model's window (2 tokens
        go to the model's special tokens)."""
        return min(self.max_tokens, self.model_window - 2)

    def config_id(self) -> str:
        fields = ",".join(f"{k}={v}" for k, v in sorted(asdict(self).items()))
        return f"chunker:v{CHUNKER_VERSION}:{fields}"


_SENTENCE_END = re.compile(r"(?<=[.!?;:。！？；])\s+|\n+|(?<=[。！？；])")


def split_sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]


def fit_header(header: str, counter: EmbeddingTokenCounter, max_tokens: int) -> tuple[str, int]:
    """The header, cut by words until it fits ``max_tokens``; and its token count."""
    n = counter.count_tokens(header)
    if n <= max_tokens:
        return header, n
    words = header.split(" ")
    while words and n > max_tokens:
        words = words[: max(1, int(len(words) * max_tokens / n) - 1)]
        header = " ".join(words) + " …"
        n = counter.count_tokens(header)
        if len(words) == 1:
            break
    return header, n


def split_to_fit(text: str, counter: EmbeddingTokenCounter, budget: int) -> list[str]:
    """``text`` cut into pieces of at most ``budget`` tokens: at sentence ends, then (for a
    single overlong sentence) at word boundaries."""
    if counter.count_tokens(text) <= budget:
        return [text]
    sentences = split_sentences(text)
    counts = counter.count_tokens_batch(sentences)
    pieces: list[str] = []
    for sentence, n in zip(sentences, counts, strict=True):
        if n <= budget:
            pieces.append(sentence)
        else:
            pieces.extend(_split_words(sentence, counter, budget))
    return pack(pieces, counter.count_tokens_batch(pieces), budget, joiner=" ")


def _split_words(text: str, counter: EmbeddingTokenCounter, budget: int) -> list[str]:
    words = text.split()
    out: list[str] = []
    start = 0
    while start < len(words):
        # grow a window of words until it no longer fits (by halving steps)
        size = max(1, min(len(words) - start, budget // 2))
        while (
            start + size < len(words)
            and counter.count_tokens(" ".join(words[start : start + size * 2])) <= budget
        ):
            size *= 2
        while size > 1 and counter.count_tokens(" ".join(words[start : start + size])) > budget:
            size = max(1, size * 3 // 4)
        out.append(" ".join(words[start : start + size]))
        start += size
    return out


def pack(units: Sequence[str], counts: Sequence[int], budget: int, joiner: str = "\n") -> list[str]:
    """Greedily join consecutive units while their token counts fit ``budget``."""
    out: list[str] = []
    current: list[str] = []
    used = 0
    for unit, n in zip(units, counts, strict=True):
        extra = n + (1 if current else 0)
        if current and used + extra > budget:
            out.append(joiner.join(current))
            current, used = [], 0
            extra = n
        current.append(unit)
        used += extra
    if current:
        out.append(joiner.join(current))
    return out
