"""What the same requests would have cost without loregate's economies, from the ledger rows.

For a set of attempt rows (a department's month, say), each figure re-prices the very tokens
the ledger recorded, with the route catalogue's prices:

- ``without_prompt_cache``: every cache read and cache write paid as a plain input token;
- ``final_tier_only``: each request only on the tier that finally answered it (the cheaper
  tiers' attempts dropped): what the cascade's tries cost is ``actual - final_tier_only``;
- ``always_reference``: each request answered once by the reference model (Sonnet by
  default), its answering attempt's tokens at that model's prices (no cascade at all);
- ``later_tiers_share``: the share of the cost spent past the first tier, and
  ``cache_read_share``: cache reads among all input tokens (``benchmarks/cost_per_answer.py``
  prints the same two ratios from the answers, so a test holds them equal).

- ``without_response_cache``: the response cache's hits (ledger rows of kind ``cache_hit``)
  paid again at what each answer cost when it was made; ``cache_hits`` counts them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from governance.billing.cache_hits import CacheHit
from governance.billing.money import usd_exact
from governance.billing.usage import AttemptRow, Prices

REFERENCE_MODEL = "claude-sonnet-4-6"


@dataclass(frozen=True)
class Savings:
    requests: int
    escalated: int
    actual_nano: int
    without_prompt_cache_nano: int
    final_tier_only_nano: int
    always_reference_nano: int
    reference_model: str
    later_tiers_nano: int
    cache_read_tokens: int
    input_side_tokens: int
    cache_hits: int = 0
    cache_hits_saved_nano: int = 0

    @property
    def cache_read_share(self) -> float:
        return self.cache_read_tokens / self.input_side_tokens if self.input_side_tokens else 0.0

    @property
    def later_tiers_share(self) -> float:
        return self.later_tiers_nano / self.actual_nano if self.actual_nano else 0.0

    def as_dict(self) -> dict[str, Any]:
        def saved(counterfactual: int) -> dict[str, Any]:
            diff = counterfactual - self.actual_nano
            ratio = diff / counterfactual if counterfactual else 0.0
            return {
                "nano_usd": counterfactual,
                "usd": str(usd_exact(counterfactual)),
                "saved_nano_usd": diff,
                "saved_usd": str(usd_exact(diff)),
                "saved_ratio": round(ratio, 6),
            }

        return {
            "requests": self.requests,
            "escalated_requests": self.escalated,
            "actual_nano_usd": self.actual_nano,
            "actual_usd": str(usd_exact(self.actual_nano)),
            "without_prompt_cache": saved(self.without_prompt_cache_nano),
            "final_tier_only": saved(self.final_tier_only_nano),
            "always_reference": {
                **saved(self.always_reference_nano),
                "model": self.reference_model,
            },
            "without_response_cache": {
                **saved(self.actual_nano + self.cache_hits_saved_nano),
                "cache_hits": self.cache_hits,
            },
            "cache_read_share": round(self.cache_read_share, 6),
            "later_tiers_share": round(self.later_tiers_share, 6),
        }


def _reprice(tokens: tuple[int, int, int, int, int], price: tuple[int, int, int, int, int]) -> int:
    return sum(n * p for n, p in zip(tokens, price, strict=True))


def _uncached(row: AttemptRow, prices: Prices) -> int:
    price = prices(row.model)
    if price is None:
        return row.cost_nano_usd  # unknown model: counted as it was
    i, o, w5, w1, r = row.tokens
    return (i + w5 + w1 + r) * price[0] + o * price[1]


def savings(
    rows: Iterable[AttemptRow],
    prices: Prices,
    reference_model: str = REFERENCE_MODEL,
    hits: Iterable[CacheHit] = (),
) -> Savings:
    by_request: dict[str, list[AttemptRow]] = {}
    for row in rows:
        by_request.setdefault(row.request_id, []).append(row)
    reference = prices(reference_model)
    served = list(hits)
    actual = uncached = final = always = later = reads = input_side = escalated = 0
    for attempts in by_request.values():
        answered = next((a for a in reversed(attempts) if a.outcome == "ok"), attempts[-1])
        escalated += any(a.outcome == "escalated" for a in attempts)
        for a in attempts:
            actual += a.cost_nano_usd
            uncached += _uncached(a, prices)
            later += a.cost_nano_usd if (a.tier or 0) > 0 else 0
            reads += a.tokens[4]
            input_side += a.tokens[0] + a.tokens[2] + a.tokens[3] + a.tokens[4]
            if answered.outcome != "ok" or a.tier == answered.tier:
                final += a.cost_nano_usd
        always += (
            _reprice(answered.tokens, reference)
            if reference is not None
            else answered.cost_nano_usd
        )
    return Savings(
        requests=len(by_request),
        escalated=escalated,
        actual_nano=actual,
        without_prompt_cache_nano=uncached,
        final_tier_only_nano=final,
        always_reference_nano=always,
        reference_model=reference_model,
        later_tiers_nano=later,
        cache_read_tokens=reads,
        input_side_tokens=input_side,
        cache_hits=len(served),
        cache_hits_saved_nano=sum(h.saved_nano_usd for h in served),
    )
