"""The exact cost of a call, in integer nano-USD (1e-9 USD).

``$/MTok * tokens * 1000 = nano-USD``: prices have at most 3 decimals (checked by the config),
so every figure is an exact integer and sums reconcile to the last nano-dollar. Floats appear
only for display (``nano_to_usd``).

Cache writes are priced by TTL: the 5m and 1h counts at their own prices, and any part of
``cache_creation_input_tokens`` the split does not cover (an upstream that sends only the total)
at the 5m price.
"""

from __future__ import annotations

from typing import NamedTuple

from gateway.config import ModelSpec
from gateway.types import Usage

NANO_PER_USD = 1_000_000_000


class CacheWriteSplit(NamedTuple):
    # A tuple, not a frozen dataclass: made three times per request (the cost, two ledger rows)
    five_minutes: int
    one_hour: int


def cache_write_split(usage: Usage) -> CacheWriteSplit:
    """The cache-write tokens by TTL; what the split leaves out of the total counts as 5m."""
    split = usage.cache_creation_5m_input_tokens + usage.cache_creation_1h_input_tokens
    rest = max(0, usage.cache_creation_input_tokens - split)
    return CacheWriteSplit(
        five_minutes=usage.cache_creation_5m_input_tokens + rest,
        one_hour=usage.cache_creation_1h_input_tokens,
    )


def cost_nano_usd(usage: Usage, spec: ModelSpec) -> int:
    """What ``usage`` costs on ``spec``'s model, in nano-USD (exact)."""
    p_in, p_out, p_5m, p_1h, p_read = spec.nano_prices
    writes = cache_write_split(usage)
    return (
        usage.input_tokens * p_in
        + usage.output_tokens * p_out
        + writes.five_minutes * p_5m
        + writes.one_hour * p_1h
        + usage.cache_read_input_tokens * p_read
    )


def nano_to_usd(nano: int) -> float:
    """For display only."""
    return nano / NANO_PER_USD


def format_usd(nano: int) -> str:
    """``$0.000123`` style, 6 decimals (exact figures stay in nano-USD)."""
    return f"${nano / NANO_PER_USD:.6f}"


def estimate_nano_usd(spec: ModelSpec, input_tokens: int, max_output_tokens: int) -> int:
    """An upper-bound estimate before the call (governance reserves it): input + max output."""
    p_in, p_out, p_5m, p_1h, _ = spec.nano_prices
    return input_tokens * max(p_in, p_5m, p_1h) + max_output_tokens * p_out
