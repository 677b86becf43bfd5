"""From a route in the config to the wrappers that serve one request.

A ``RoutePlan`` is the static part, resolved once per route: each tier's candidates whose
provider is available (a provider without a key is skipped), and a tier whose candidates repeat
the previous tier's is dropped. A route whose paid models are all unavailable (no keys) runs
the configured ``offline_route`` instead (the extractive answerer, then the local model).
``Composer`` builds the per-request part, lazily, one tier at a time::

    Escalation(tiers)                   escalation on the answer
      └─ Tier(candidates)               per tier: the model, then its fallbacks, in order;
                                        a complete answer in one loop (gateway/resilience/tier.py),
                                        a stream through the wrappers, built when it starts:
           Fallback(Recorded(Retry(AttemptTimeout(Pinned(provider), circuit))))

One ``Deadline`` per tier bounds all of it (retries, backoff waits, fallbacks).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Protocol

from gateway.config import EscalationSignal, GatewayConfig, TierSpec
from gateway.providers.base import Provider
from gateway.resilience.breaker import Breakers
from gateway.resilience.escalation import Escalation
from gateway.resilience.tier import Candidate, Tier, TierPlan
from gateway.resilience.trace import Trace
from gateway.types import Judge
from kernel.clock import Clock, Sleep
from kernel.errors import AllProvidersFailed, UnknownModel


@dataclass(frozen=True)
class RoutePlan:
    name: str
    tiers: tuple[TierPlan, ...]
    is_alias: bool = False

    @cached_property
    def signals(self) -> list[tuple[EscalationSignal, ...]]:
        return [t.spec.escalate_on for t in self.tiers]

    @cached_property
    def confidence_floors(self) -> dict[str, float]:
        """Model alias -> its ``min_confidence``, for the models of this plan that state one."""
        return {
            c.spec.alias: c.spec.min_confidence
            for t in self.tiers
            for c in t.candidates
            if c.spec.min_confidence is not None
        }


class ProviderLookup(Protocol):
    """What the planner needs from the provider registry."""

    def available(self, provider: str) -> bool: ...

    def get(self, provider: str) -> Provider: ...

    def why_unavailable(self, provider: str) -> str: ...


def alias_tier(config: GatewayConfig, alias: str) -> TierSpec:
    d = config.alias_tier
    return TierSpec(
        model=alias,
        fallbacks=(),
        attempt_timeout_s=d.attempt_timeout_s,
        total_timeout_s=d.total_timeout_s,
        retry=d.retry,
        escalate_on=(),
    )


def resolve_name(config: GatewayConfig, name: str) -> tuple[str, list[TierSpec], bool]:
    """(route name, tier specs, is an alias) for a route name, model alias or pinned id."""
    route = config.routes.get(name)
    if route is not None:
        return name, list(route.tiers), False
    spec = config.find_model(name)
    if spec is None:
        known = ", ".join(sorted([*config.routes, *config.models]))
        raise UnknownModel(
            f"unknown model or route {name!r}; configured: {known}", details={"model": name}
        )
    return spec.alias, [alias_tier(config, spec.alias)], True


def plan_route(config: GatewayConfig, providers: ProviderLookup, name: str) -> RoutePlan:
    route_name, tier_specs, is_alias = resolve_name(config, name)
    offline = config.offline_route
    if not is_alias and offline and route_name != offline:
        paid = [
            config.models[a]
            for t in tier_specs
            for a in t.candidates
            if not config.models[a].is_free
        ]
        if paid and not any(providers.available(s.provider) for s in paid):
            # None of the route's paid models can be reached (no keys): the offline route
            # answers instead, so every route still gives an answer on an embedded default.
            return plan_route(config, providers, offline)
    tiers: list[TierPlan] = []
    missing: list[str] = []
    for tier in tier_specs:
        candidates: list[Candidate] = []
        skipped: list[str] = []
        for alias in tier.candidates:
            spec = config.models[alias]
            if providers.available(spec.provider):
                candidates.append(Candidate(spec, providers.get(spec.provider)))
            else:
                skipped.append(alias)
                missing.append(f"{alias} ({providers.why_unavailable(spec.provider)})")
        if not candidates:
            continue
        if tiers and tiers[-1].aliases == tuple(c.spec.alias for c in candidates):
            continue
        tiers.append(TierPlan(len(tiers), tier, tuple(candidates), tuple(skipped)))
    if not tiers:
        raise AllProvidersFailed(
            f"route {route_name!r} has no available model: " + "; ".join(dict.fromkeys(missing)),
            errors=[],
        )
    return RoutePlan(route_name, tuple(tiers), is_alias)


class Composer:
    """Builds the per-request wrappers of a plan (cheap objects, shared breakers)."""

    def __init__(self, breakers: Breakers, clock: Clock, sleep: Sleep) -> None:
        self.breakers = breakers
        self.clock = clock
        self.sleep = sleep

    def tier(self, plan: RoutePlan, index: int, trace: Trace) -> Tier:
        label = f"route {plan.name!r} tier {index}"
        return Tier(
            plan.tiers[index],
            trace,
            label=label,
            breakers=self.breakers,
            clock=self.clock,
            sleep=self.sleep,
        )

    def route(self, plan: RoutePlan, trace: Trace, judge: Judge | None = None) -> Escalation:
        return Escalation(
            lambda i: self.tier(plan, i, trace),
            plan.signals,
            trace,
            judge=judge,
            name=plan.name,
            floors=plan.confidence_floors,
        )


def describe(plan: RoutePlan) -> list[Mapping[str, object]]:
    """A plain description of a plan (for the CLI and the API)."""
    return [
        {
            "tier": t.index,
            "models": list(t.aliases),
            "skipped": list(t.skipped),
            "attempt_timeout_s": t.spec.attempt_timeout_s,
            "total_timeout_s": t.spec.total_timeout_s,
            "max_attempts": t.spec.retry.max_attempts,
            "escalate_on": list(t.spec.escalate_on),
        }
        for t in plan.tiers
    ]
