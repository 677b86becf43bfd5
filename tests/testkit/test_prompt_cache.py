"""Anthropic's prompt-caching rules, on an injected clock (no server)."""

from __future__ import annotations

from typing import Any

import pytest

from testkit.clock import ManualClock
from testkit.emulator import count_request, min_cacheable
from testkit.emulator.openai_cache import AutoPrefixCache, chat_tokens
from testkit.emulator.prompt_cache import CacheRuleError, PromptCache, request_blocks

SONNET = "claude-sonnet-4-6"
HAIKU = "claude-haiku-4-5-20251001"


def words(n: int, seed: str = "w") -> str:
    """Text of exactly ``n`` tokens."""
    return " ".join(f"{seed}{i}" for i in range(n))


def request(
    system_tokens: int,
    question: str = "What now?",
    *,
    ttl: str | None = "5m",
    model: str = SONNET,
    tools: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "text", "text": words(system_tokens)}
    if ttl is not None:
        block["cache_control"] = {"type": "ephemeral", "ttl": ttl}
    body: dict[str, Any] = {
        "model": model,
        "max_tokens": 10,
        "system": [block],
        "messages": [{"role": "user", "content": question}],
    }
    if tools:
        body["tools"] = tools
    return body


def apply(cache: PromptCache, body: dict[str, Any]) -> tuple[int, int, int, int]:
    u = cache.apply(body["model"], request_blocks(body))
    return u.input_tokens, u.cache_creation_5m, u.cache_creation_1h, u.cache_read


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def cache(clock: ManualClock) -> PromptCache:
    return PromptCache(clock)


def test_minimum_cacheable_lengths_per_model() -> None:
    assert min_cacheable("claude-haiku-4-5") == 4096
    assert min_cacheable(HAIKU) == 4096
    assert min_cacheable("claude-sonnet-4-6") == 1024
    assert min_cacheable("claude-opus-4-8") == 4096
    assert min_cacheable("some-unknown-model") == 1024


def test_create_then_read_then_expire_after_5_minutes(
    cache: PromptCache, clock: ManualClock
) -> None:
    body = request(2000)  # question "What now?" = 3 tokens
    assert apply(cache, body) == (3, 2000, 0, 0)
    clock.advance(299)
    assert apply(cache, body) == (3, 0, 0, 2000)
    clock.advance(299)  # the read refreshed the TTL: still alive 598 s after creation
    assert apply(cache, body) == (3, 0, 0, 2000)
    clock.advance(301)
    assert apply(cache, body) == (3, 2000, 0, 0)  # expired: written again


def test_one_hour_ttl(cache: PromptCache, clock: ManualClock) -> None:
    body = request(2000, ttl="1h")
    assert apply(cache, body) == (3, 0, 2000, 0)
    clock.advance(3000)
    assert apply(cache, body) == (3, 0, 0, 2000)
    clock.advance(3601)
    assert apply(cache, body) == (3, 0, 2000, 0)


def test_prefix_shorter_than_the_model_minimum_is_not_cached(cache: PromptCache) -> None:
    assert apply(cache, request(1000)) == (1003, 0, 0, 0)  # sonnet: 1024 needed
    assert apply(cache, request(1024)) == (3, 1024, 0, 0)
    assert apply(cache, request(4000, model=HAIKU)) == (4003, 0, 0, 0)  # haiku: 4096
    assert apply(cache, request(4000, model=HAIKU)) == (4003, 0, 0, 0)  # and never read
    assert apply(cache, request(4096, model=HAIKU)) == (3, 4096, 0, 0)


def test_entries_are_per_model_and_per_prefix(cache: PromptCache) -> None:
    apply(cache, request(2000))
    assert apply(cache, request(2000, model="claude-sonnet-4-5")) == (3, 2000, 0, 0)
    changed = request(2000)
    changed["system"][0]["text"] += " changed"
    assert apply(cache, changed) == (3, 2001, 0, 0)


def test_the_question_after_the_breakpoint_does_not_matter(cache: PromptCache) -> None:
    apply(cache, request(2000, "first question"))
    assert apply(cache, request(2000, "a different and longer question")) == (5, 0, 0, 2000)


def test_prefix_order_is_tools_then_system_then_messages(cache: PromptCache) -> None:
    tools = [{"name": "lookup", "description": words(10), "input_schema": {"type": "object"}}]
    body = request(2000, tools=tools)
    first = apply(cache, body)
    tool_tokens = request_blocks(body)[0].tokens
    assert first == (3, 2000 + tool_tokens, 0, 0)  # the tool sits before the breakpoint
    other_tools = [{**tools[0], "description": "changed"}]
    assert apply(cache, request(2000, tools=other_tools))[3] == 0  # a tool change: a miss


def test_more_than_four_breakpoints_is_rejected(cache: PromptCache) -> None:
    cc = {"type": "ephemeral"}
    body = {
        "model": SONNET,
        "max_tokens": 5,
        "system": [{"type": "text", "text": f"part {i}", "cache_control": cc} for i in range(4)],
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "q", "cache_control": cc}]}
        ],
    }
    with pytest.raises(CacheRuleError, match="maximum of 4 blocks with cache_control"):
        cache.apply(SONNET, request_blocks(body))
    body["messages"][0]["content"][0].pop("cache_control")
    cache.apply(SONNET, request_blocks(body))  # four is fine


def test_1h_after_5m_is_rejected_and_bad_ttl_too(cache: PromptCache) -> None:
    body = {
        "model": SONNET,
        "max_tokens": 5,
        "system": [
            {"type": "text", "text": "a", "cache_control": {"type": "ephemeral", "ttl": "5m"}},
            {"type": "text", "text": "b", "cache_control": {"type": "ephemeral", "ttl": "1h"}},
        ],
        "messages": [{"role": "user", "content": "q"}],
    }
    with pytest.raises(CacheRuleError, match="1h"):
        cache.apply(SONNET, request_blocks(body))
    body["system"][1]["cache_control"]["ttl"] = "10m"
    with pytest.raises(CacheRuleError, match="ttl"):
        request_blocks(body)


def test_mixed_ttls_split_the_creation(cache: PromptCache) -> None:
    body = {
        "model": SONNET,
        "max_tokens": 5,
        "system": [
            {
                "type": "text",
                "text": words(1500),
                "cache_control": {"type": "ephemeral", "ttl": "1h"},
            },
            {"type": "text", "text": words(600, "v"), "cache_control": {"type": "ephemeral"}},
        ],
        "messages": [{"role": "user", "content": "q"}],
    }
    assert apply(cache, body) == (1, 600, 1500, 0)
    assert apply(cache, body) == (1, 0, 0, 2100)


def test_conversation_reads_an_earlier_breakpoint_by_lookback(cache: PromptCache) -> None:
    cc = {"type": "ephemeral"}
    turn1 = {
        "model": SONNET,
        "max_tokens": 5,
        "system": words(1200),
        "messages": [
            {
                "role": "user",
                "content": [{"type": "text", "text": words(10, "a"), "cache_control": cc}],
            }
        ],
    }
    assert apply(cache, turn1) == (0, 1210, 0, 0)
    turn2 = {
        **turn1,
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": words(10, "a")}]},
            {"role": "assistant", "content": "ok"},
            {
                "role": "user",
                "content": [{"type": "text", "text": words(5, "b"), "cache_control": cc}],
            },
        ],
    }
    # The breakpoint moved to the new last block; the old prefix is found 2 blocks back.
    assert apply(cache, turn2) == (0, 6, 0, 1210)


def test_top_level_cache_control_marks_the_last_block(cache: PromptCache) -> None:
    body = {
        "model": SONNET,
        "max_tokens": 5,
        "system": words(1100),
        "messages": [{"role": "user", "content": "the question"}],
        "cache_control": {"type": "ephemeral"},
    }
    assert apply(cache, body) == (0, 1102, 0, 0)
    assert apply(cache, body) == (0, 0, 0, 1102)


def test_count_request_matches_the_sum_of_the_split(cache: PromptCache) -> None:
    body = request(2000, "What is the notice period?")
    total = count_request(body)
    for _ in range(2):
        i, c5, c1, r = apply(cache, body)
        assert i + c5 + c1 + r == total


def test_openai_automatic_prefix_caching(clock: ManualClock) -> None:
    cache = AutoPrefixCache(clock)
    long = {
        "model": "gpt-5.5",
        "messages": [
            {"role": "system", "content": words(1500)},
            {"role": "user", "content": "question one"},
        ],
    }
    tokens = chat_tokens(long)
    assert cache.apply("gpt-5.5", tokens) == 0
    again = {**long, "messages": [*long["messages"][:1], {"role": "user", "content": "two"}]}
    cached = cache.apply("gpt-5.5", chat_tokens(again))
    assert cached == 1024 + 128 * ((1500 - 1024) // 128)  # whole 128-token steps of the prefix
    clock.advance(301)
    assert cache.apply("gpt-5.5", chat_tokens(again)) == 0
    assert (
        cache.apply("gpt-5.5", chat_tokens({"messages": [{"role": "user", "content": "hi"}]})) == 0
    )
