"""The exact-match response cache: what the key covers, TTL, and the Redis backend."""

from __future__ import annotations

import pytest

from retrieval.answer_types import Answer, AskFilters
from retrieval.response_cache import (
    CacheKeyParts,
    MemoryBackend,
    RedisBackend,
    ResponseCache,
    normalise_question,
)
from testkit.clock import ManualClock


def parts(**over: object) -> CacheKeyParts:
    base: dict[str, object] = {
        "question": "What is the notice period?",
        "filters": AskFilters(),
        "access_scope": ["public", "dept:legal", "user:u1"],
        "prompt_digest": "p1",
        "index_version": "1.a",
        "route": "default",
    }
    base.update(over)
    return CacheKeyParts(**base)  # type: ignore[arg-type]


def answer(confident: bool = True) -> Answer:
    return Answer(question="q", answer="90 days [1].", confident=confident)


def test_normalisation_ignores_case_spacing_and_trailing_punctuation() -> None:
    assert normalise_question("  What is   the NOTICE period?? ") == "what is the notice period"
    assert parts(question="what is the notice period").key() == parts().key()


@pytest.mark.parametrize(
    "change",
    [
        {"question": "What is the liability cap?"},
        {"filters": AskFilters(doc_types=["contract"])},
        {"access_scope": ["public", "dept:hr", "user:u1"]},
        {"prompt_digest": "p2"},
        {"index_version": "2.b"},
        {"route": "economy"},
    ],
)
def test_every_part_changes_the_key(change: dict[str, object]) -> None:
    assert parts(**change).key() != parts().key()


def test_scope_order_does_not_matter() -> None:
    assert parts(access_scope=["user:u1", "public", "dept:legal"]).key() == parts().key()


def test_memory_backend_expires_and_evicts() -> None:
    clock = ManualClock()
    backend = MemoryBackend(max_entries=2, clock=clock.monotonic)
    cache = ResponseCache(backend, ttl_s=10)
    cache.put(parts(), answer())
    assert cache.get(parts()) is not None
    clock.advance(11)
    assert cache.get(parts()) is None
    for q in ("a", "b", "c"):
        cache.put(parts(question=q), answer())
    assert cache.get(parts(question="a")) is None  # evicted (LRU of 2)
    assert cache.get(parts(question="c")) is not None


def test_only_confident_answers_are_stored() -> None:
    cache = ResponseCache(MemoryBackend())
    cache.put(parts(), answer(confident=False))
    assert cache.get(parts()) is None


@pytest.mark.redis
def test_redis_backend_round_trip_with_ttl(redis_url: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    cache = ResponseCache(RedisBackend(client), ttl_s=30)
    cache.put(parts(), answer())
    got = cache.get(parts())
    assert got is not None and got.answer == "90 days [1]."
    key = next(iter(client.scan_iter("loregate:answer:*")))
    assert 0 < client.pttl(key) <= 30_000
    assert cache.get(parts(access_scope=["public", "user:u2"])) is None
    client.close()
