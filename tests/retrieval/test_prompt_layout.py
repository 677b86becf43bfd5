"""The cache layout: the prefix plan, padding, and byte-identical prefixes across questions."""

from __future__ import annotations

import json

import pytest

from retrieval.cache_plan import CacheEconomics, plan_cache
from retrieval.context_builder import Source
from retrieval.prompt_layout import build_prefix, messages, system_blocks
from retrieval.prompt_source import PackagedPrompts
from retrieval.tokens import count_tokens

HAIKU = CacheEconomics("claude-haiku-4-5", 4096, True, 1.0, 1.25, 0.10)
SONNET = CacheEconomics("claude-sonnet-4-6", 1024, True, 3.0, 3.75, 0.30)
LOCAL = CacheEconomics("local", 0, False, 0.0, 0.0, 0.0)


def test_no_breakpoint_for_a_model_without_caching() -> None:
    plan = plan_cache(700, LOCAL)
    assert (plan.breakpoint, plan.pad_to_tokens) == (False, 0)
    assert plan_cache(700, None).breakpoint is False


def test_a_prefix_past_the_minimum_is_cached_unpadded() -> None:
    plan = plan_cache(5000, HAIKU)
    assert (plan.breakpoint, plan.pad_to_tokens) == (True, 0)


def test_padding_pays_only_with_enough_reuse() -> None:
    # 700 natural tokens: uncached $0.70/1k requests; padded to 4,506: ~$0.50 at n=100.
    busy = plan_cache(700, HAIKU, requests_per_window=100)
    assert busy.pad_to_tokens == 4506 and busy.cached_usd < busy.uncached_usd
    quiet = plan_cache(700, HAIKU, requests_per_window=2)
    assert quiet.pad_to_tokens == 0 and "does not pay" in quiet.reason
    assert plan_cache(700, HAIKU, policy="always", requests_per_window=1).pad_to_tokens == 4506
    assert plan_cache(700, HAIKU, policy="never", requests_per_window=1000).pad_to_tokens == 0
    # Sonnet's lower minimum makes padding pay sooner.
    assert plan_cache(700, SONNET, requests_per_window=5).pad_to_tokens == 1127


def test_padded_prefix_reaches_the_target_and_is_built_identically() -> None:
    template = PackagedPrompts().active("answer")
    plan = plan_cache(count_tokens(template.text), HAIKU, policy="always")
    one = build_prefix(template.text, template.ref, plan, standing_knowledge="Glossary: MSA.")
    two = build_prefix(template.text, template.ref, plan, standing_knowledge="Glossary: MSA.")
    assert one.tokens >= plan.pad_to_tokens
    assert one.text == two.text and one.digest == two.digest
    assert "# Worked examples" in one.text and "# Standing knowledge" in one.text
    other = build_prefix(template.text, template.ref, plan, standing_knowledge="Other.")
    assert other.digest != one.digest


def test_breakpoint_sits_at_the_end_of_the_prefix_and_the_question_comes_last() -> None:
    template = PackagedPrompts().active("answer")
    prefix = build_prefix(template.text, template.ref, plan_cache(9999, HAIKU))
    src = Source(
        1,
        ("c1",),
        "d1",
        "MSA",
        "9.2 Termination",
        "contracts/msa.md",
        "contract",
        0.9,
        "Ninety days notice.",
    )
    system = system_blocks(prefix)
    assert system == [{"type": "text", "text": prefix.text, "cache_control": {"type": "ephemeral"}}]
    assert system_blocks(prefix, "1h")[0]["cache_control"] == {"type": "ephemeral", "ttl": "1h"}
    user = messages([src], "How long is the notice?")[0]["content"][0]["text"]
    assert user.startswith("Sources:\n\n[1] MSA (9.2 Termination) [contract; contracts/msa.md]")
    assert user.endswith("Question: How long is the notice?")


@pytest.mark.parametrize("ttl", ["5m", "1h"])
def test_no_cache_control_without_a_breakpoint(ttl: str) -> None:
    template = PackagedPrompts().active("answer")
    prefix = build_prefix(template.text, template.ref, plan_cache(10, LOCAL))
    assert "cache_control" not in json.dumps(system_blocks(prefix, ttl))
