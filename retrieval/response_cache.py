"""The exact-match response cache: the same question, asked again, costs nothing.

The key covers everything an answer depends on: the normalised question, the filters, the
asker's access scope (their sorted access tokens: an answer is never served across scopes),
the prompt (the prefix digest: template version, standing knowledge, padding), the route and
the index version (every ingestion changes it, so stale answers are never read again; they
expire by TTL). Only confident answers are stored.

Backends: Redis by URL (shared by replicas), or an in-process LRU with TTL by default.
"""

from __future__ import annotations

import threading
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from cachetools import TLRUCache

from kernel.digest import digest
from retrieval.answer_types import Answer, AskFilters

if TYPE_CHECKING:
    import redis

KEY_PREFIX = "loregate:answer:"


class CacheBackend(Protocol):
    def get(self, key: str) -> bytes | None: ...

    def set(self, key: str, value: bytes, ttl_s: float) -> None: ...


class MemoryBackend:
    """An LRU of at most ``max_entries``, each expiring ``ttl_s`` after it was written."""

    def __init__(self, max_entries: int = 10_000, clock: Callable[[], float] = time.monotonic):
        self.max_entries = max_entries
        # Each entry carries its own time to live: (ttl_s, value); least recently used first
        # out when full.
        self._data: TLRUCache[str, tuple[float, bytes]] = TLRUCache(
            maxsize=max_entries, ttu=lambda _key, item, now: now + item[0], timer=clock
        )
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            item = self._data.get(key)
        return None if item is None else item[1]

    def set(self, key: str, value: bytes, ttl_s: float) -> None:
        with self._lock:
            self._data[key] = (ttl_s, value)


class RedisBackend:
    def __init__(self, client: redis.Redis) -> None:
        self.client = client

    def get(self, key: str) -> bytes | None:
        value = self.client.get(KEY_PREFIX + key)
        return value if isinstance(value, bytes) else None

    def set(self, key: str, value: bytes, ttl_s: float) -> None:
        self.client.set(KEY_PREFIX + key, value, px=max(1, int(ttl_s * 1000)))


def normalise_question(question: str) -> str:
    """NFKC, case-folded, whitespace collapsed, trailing punctuation dropped."""
    q = unicodedata.normalize("NFKC", question).casefold()
    q = " ".join(q.split())
    return q.rstrip(" ?!.。？！")


@dataclass(frozen=True)
class CacheKeyParts:
    question: str
    filters: AskFilters
    access_scope: Sequence[str]
    prompt_digest: str
    index_version: str
    route: str

    def key(self) -> str:
        return digest(
            {
                "q": normalise_question(self.question),
                "f": self.filters.model_dump(mode="json"),
                "scope": sorted(set(self.access_scope)),
                "prompt": self.prompt_digest,
                "index": self.index_version,
                "route": self.route,
            }
        )


class ResponseCache:
    def __init__(self, backend: CacheBackend, ttl_s: float = 24 * 3600) -> None:
        self.backend = backend
        self.ttl_s = ttl_s
        self.hits = 0
        self.misses = 0

    def get(self, parts: CacheKeyParts) -> Answer | None:
        raw = self.backend.get(parts.key())
        if raw is None:
            self.misses += 1
            return None
        try:
            answer = Answer.model_validate_json(raw)
        except ValueError:  # an entry from an incompatible version: treat as a miss
            self.misses += 1
            return None
        self.hits += 1
        return answer

    def put(self, parts: CacheKeyParts, answer: Answer) -> None:
        if not answer.confident:
            return
        self.backend.set(parts.key(), answer.model_dump_json().encode("utf-8"), self.ttl_s)
