"""Anthropic prompt caching as documented, on an injected clock.

The prompt is a sequence of blocks in the order tools, system, messages. A block carrying
``cache_control`` is a breakpoint; the cached prefix is everything up to and including it.

- At most 4 breakpoints (400 otherwise); ``ttl`` is "5m" (default) or "1h", and a 1h breakpoint
  may not follow a 5m one (400).
- A breakpoint whose prefix is shorter than the model's minimum cacheable length is not cached.
- On a request, the longest prefix already cached is read: at a breakpoint, or at an earlier
  block boundary up to 20 blocks before one (the documented look-back). Reading refreshes the
  entry's TTL.
- Every cacheable breakpoint past the read position is written; its tokens count as cache
  creation, split 5m/1h by the TTL of the breakpoint that covers them.
- ``input_tokens`` is what is neither read nor written. Entries are per model.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kernel.digest import canonical_json
from testkit.emulator.tokens import count_block, count_tool, without_cache_control

MAX_BREAKPOINTS = 4
LOOKBACK_BLOCKS = 20
TTL_SECONDS = {"5m": 300.0, "1h": 3600.0}
# Minimum cacheable prompt length by model id prefix (longest prefix wins).
MIN_CACHEABLE: dict[str, int] = {
    "claude-haiku-4-5": 4096,
    "claude-sonnet-4-6": 1024,
    "claude-sonnet-4-5": 1024,
    "claude-sonnet-4": 1024,
    "claude-opus-4-8": 4096,
    "claude-opus-4-5": 4096,
    "claude-opus-4-1": 1024,
    "claude-3-5-haiku": 2048,
    "claude-3-haiku": 2048,
}
DEFAULT_MIN_CACHEABLE = 1024


class CacheRuleError(ValueError):
    """The request breaks a prompt-caching rule (rendered as a 400 invalid_request_error)."""


@dataclass(frozen=True)
class Block:
    tokens: int
    key: str  # canonical form (without cache_control)
    ttl: str | None  # "5m"/"1h" when this block is a breakpoint


@dataclass(frozen=True)
class CacheUsage:
    input_tokens: int
    cache_creation_5m: int
    cache_creation_1h: int
    cache_read: int

    @property
    def cache_creation(self) -> int:
        return self.cache_creation_5m + self.cache_creation_1h

    def usage_json(self, output_tokens: int) -> dict[str, Any]:
        """The ``usage`` object of an Anthropic response."""
        return {
            "input_tokens": self.input_tokens,
            "cache_creation_input_tokens": self.cache_creation,
            "cache_read_input_tokens": self.cache_read,
            "cache_creation": {
                "ephemeral_5m_input_tokens": self.cache_creation_5m,
                "ephemeral_1h_input_tokens": self.cache_creation_1h,
            },
            "output_tokens": output_tokens,
            "service_tier": "standard",
        }


def min_cacheable(model: str, table: dict[str, int] | None = None) -> int:
    table = MIN_CACHEABLE if table is None else table
    best = ""
    for prefix in table:
        if model.startswith(prefix) and len(prefix) > len(best):
            best = prefix
    return table[best] if best else DEFAULT_MIN_CACHEABLE


def _ttl_of(item: dict[str, Any]) -> str | None:
    cc = item.get("cache_control")
    if cc is None:
        return None
    if not isinstance(cc, dict) or cc.get("type") != "ephemeral":
        raise CacheRuleError("cache_control.type: Input should be 'ephemeral'")
    ttl = cc.get("ttl", "5m")
    if ttl not in TTL_SECONDS:
        raise CacheRuleError(f"cache_control.ttl: Input should be '5m' or '1h' (got {ttl!r})")
    return str(ttl)


def request_blocks(body: dict[str, Any]) -> list[Block]:
    """The prompt of a Messages request as blocks: tools, system, messages (in that order)."""
    blocks: list[Block] = []
    for tool in body.get("tools") or []:
        blocks.append(
            Block(
                count_tool(tool),
                "tool:" + canonical_json(without_cache_control(tool)),
                _ttl_of(tool),
            )
        )
    system = body.get("system")
    if isinstance(system, str):
        if system:
            blocks.append(Block(count_block(system), "system:" + system, None))
    elif isinstance(system, list):
        for item in system:
            blocks.append(
                Block(
                    count_block(item),
                    "system:" + canonical_json(without_cache_control(item)),
                    _ttl_of(item),
                )
            )
    for message in body.get("messages") or []:
        role = str(message.get("role", ""))
        content = message.get("content", "")
        if isinstance(content, str):
            blocks.append(Block(count_block(content), f"{role}:" + content, None))
            continue
        for item in content:
            ttl = _ttl_of(item) if isinstance(item, dict) else None
            key = canonical_json(without_cache_control(item) if isinstance(item, dict) else item)
            blocks.append(Block(count_block(item), f"{role}:" + key, ttl))
    top = body.get("cache_control")
    if top is not None and blocks:
        # Top-level cache_control: a breakpoint on the last cacheable block.
        ttl = _ttl_of({"cache_control": top})
        if blocks[-1].ttl is None:
            blocks[-1] = Block(blocks[-1].tokens, blocks[-1].key, ttl)
    return blocks


def count_request(body: dict[str, Any]) -> int:
    """Input tokens of a Messages request (what ``count_tokens`` returns)."""
    return sum(b.tokens for b in request_blocks(body))


class PromptCache:
    """The cache of one emulator: entries keyed by model and prefix hash, expiring on ``clock``."""

    def __init__(self, clock: Callable[[], float], min_lengths: dict[str, int] | None = None):
        self._clock = clock
        self._min = min_lengths
        # prefix hash (the model is hashed in) -> (expires at, ttl seconds)
        self._entries: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        now = self._clock()
        return sum(1 for exp, _ in self._entries.values() if exp > now)

    def apply(self, model: str, blocks: list[Block]) -> CacheUsage:
        """Read and write the cache for one request; return its token split."""
        breakpoints = [i for i, b in enumerate(blocks) if b.ttl is not None]
        if len(breakpoints) > MAX_BREAKPOINTS:
            raise CacheRuleError(
                f"A maximum of {MAX_BREAKPOINTS} blocks with cache_control may be provided. "
                f"Found {len(breakpoints)}."
            )
        seen_5m = False
        for i in breakpoints:
            if blocks[i].ttl == "5m":
                seen_5m = True
            elif seen_5m:
                raise CacheRuleError(
                    "a ttl='1h' cache_control block must not come after a ttl='5m' "
                    "cache_control block"
                )
        total = sum(b.tokens for b in blocks)
        if not breakpoints:
            return CacheUsage(total, 0, 0, 0)
        hashes, cumulative = self._prefixes(model, blocks)
        floor = min_cacheable(model, self._min)
        now = self._clock()
        with self._lock:
            read_pos = self._longest_hit(hashes, breakpoints, now)
            if read_pos >= 0:
                _, ttl = self._entries[hashes[read_pos]]
                self._entries[hashes[read_pos]] = (now + ttl, ttl)
            created = {"5m": 0, "1h": 0}
            covered = read_pos
            for i in breakpoints:
                ttl_name = blocks[i].ttl or "5m"
                if i <= read_pos or cumulative[i] < floor:
                    continue
                start = cumulative[covered] if covered >= 0 else 0
                created[ttl_name] += cumulative[i] - start
                covered = i
                seconds = TTL_SECONDS[ttl_name]
                self._entries[hashes[i]] = (now + seconds, seconds)
            if len(self._entries) > 10_000:
                self._sweep(now)
        read = cumulative[read_pos] if read_pos >= 0 else 0
        creation = created["5m"] + created["1h"]
        return CacheUsage(total - read - creation, created["5m"], created["1h"], read)

    @staticmethod
    def _prefixes(model: str, blocks: list[Block]) -> tuple[list[str], list[int]]:
        digest = hashlib.sha256(model.encode())
        hashes: list[str] = []
        cumulative: list[int] = []
        running = 0
        for block in blocks:
            digest.update(block.key.encode())
            digest.update(b"\x00")
            hashes.append(digest.copy().hexdigest())
            running += block.tokens
            cumulative.append(running)
        return hashes, cumulative

    def _longest_hit(self, hashes: list[str], breakpoints: list[int], now: float) -> int:
        """The last block of the longest live cached prefix (-1: none)."""
        best = -1
        for bp in breakpoints:
            for pos in range(bp, max(bp - LOOKBACK_BLOCKS, -1), -1):
                if pos <= best:
                    break
                entry = self._entries.get(hashes[pos])
                if entry is not None and entry[0] > now:
                    best = pos
                    break
        return best

    def _sweep(self, now: float) -> None:
        for key in [k for k, (exp, _) in self._entries.items() if exp <= now]:
            del self._entries[key]
