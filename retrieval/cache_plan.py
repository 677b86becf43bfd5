"""Whether the answer prompt's prefix is cached, and whether it is padded to be cacheable.

A prefix shorter than the model's minimum cacheable length (Haiku 4.5: 4,096 tokens; see
``min_cacheable_tokens`` in the gateway's model config) is never cached. Padding it up to the
minimum costs tokens on every request, but they are then read at the cache-read price. Per
request, with ``n`` requests of one prompt version within a cache TTL window, the prefix costs:

    uncached:  P x input_price
    cached:    (M x write_price + (n - 1) x M x read_price) / n,    M = max(P, minimum x margin)

Policy ``auto`` pads when the cached cost is lower; ``always`` and ``never`` force it.
With Haiku 4.5 prices (input 1.00, write 1.25, read 0.10 $/MTok), a prefix padded to 4,506
tokens (4,096 plus the margin) costs as much per request as ~500 uncached input tokens at
n = 100 and ~710 at n = 20: padding pays for a natural prefix above those sizes. A model
without prompt caching (the local model, or one priced at zero) gets no breakpoint at all.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

PaddingPolicy = Literal["auto", "always", "never"]
SAFETY_MARGIN = 1.1  # local token counts differ from the provider's tokenizer


@dataclass(frozen=True)
class CacheEconomics:
    """What the plan needs of a model: its minimum and its prices ($ per million tokens)."""

    model: str
    min_cacheable_tokens: int
    prompt_caching: bool
    input_price: float
    cache_write_price: float
    cache_read_price: float


@dataclass(frozen=True)
class CachePlan:
    breakpoint: bool  # put cache_control at the end of the prefix
    pad_to_tokens: int  # pad the prefix to at least this many local tokens (0: no padding)
    reason: str
    uncached_usd: float = 0.0  # expected prefix cost per request without caching
    cached_usd: float = 0.0  # ... with caching (padded when pad_to_tokens > 0)


def plan_cache(
    natural_tokens: int,
    econ: CacheEconomics | None,
    *,
    requests_per_window: float = 20.0,
    policy: PaddingPolicy = "auto",
) -> CachePlan:
    if econ is None or not econ.prompt_caching or econ.cache_read_price >= econ.input_price:
        return CachePlan(False, 0, "the first model does not discount cached tokens")
    minimum = math.ceil(econ.min_cacheable_tokens * SAFETY_MARGIN)
    n = max(1.0, requests_per_window)
    size = max(natural_tokens, minimum)
    uncached = natural_tokens * econ.input_price / 1e6
    cached = (size * econ.cache_write_price + (n - 1) * size * econ.cache_read_price) / n / 1e6
    if natural_tokens >= minimum:
        return CachePlan(
            True,
            0,
            f"the prefix ({natural_tokens} tokens) reaches {econ.model}'s minimum "
            f"({econ.min_cacheable_tokens})",
            uncached,
            cached,
        )
    if policy == "never":
        return CachePlan(
            True,
            0,
            f"padding off: the prefix ({natural_tokens} tokens) stays under "
            f"{econ.model}'s minimum ({econ.min_cacheable_tokens}) and is not cached",
            uncached,
            uncached,
        )
    if policy == "always" or cached < uncached:
        why = "padding forced" if policy == "always" else "padding pays"
        return CachePlan(
            True,
            minimum,
            f"{why}: {natural_tokens} -> {minimum} tokens for {econ.model} "
            f"(${cached * 1000:.4f} vs ${uncached * 1000:.4f} per 1,000 requests' prefix "
            f"at {n:g} requests per cache window)",
            uncached,
            cached,
        )
    return CachePlan(
        True,
        0,
        f"padding does not pay: {natural_tokens} tokens uncached (${uncached * 1000:.4f}"
        f" per 1,000) beat {minimum} cached (${cached * 1000:.4f}) at {n:g} requests per window",
        uncached,
        uncached,
    )
