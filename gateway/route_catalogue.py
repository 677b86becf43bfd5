"""The routes and models a gateway serves, as they run now: one object the Gateway, governance
and the answer service all read (so none of them calls back into another).

It holds the configuration, the provider registry and the circuit breakers, and answers: which
route a name designates (a route, a model alias or a pinned model id), the tiers a request on a
route would try with the models available right now, a model's spec (prices, context window,
minimum cacheable prefix), and every circuit's state. Plans are resolved once per route.
"""

from __future__ import annotations

from collections.abc import Mapping

from gateway.config import GatewayConfig, ModelSpec
from gateway.provider_registry import ProviderRegistry
from gateway.providers.base import Provider
from gateway.resilience.breaker import Breakers
from gateway.resilience.plan import RoutePlan, plan_route, resolve_name
from gateway.resilience.tier import TierPlan
from kernel.clock import SYSTEM_CLOCK, Clock
from kernel.errors import UnknownModel


class RouteCatalogue:
    def __init__(
        self,
        config: GatewayConfig,
        providers: ProviderRegistry | Mapping[str, Provider | None],
        *,
        clock: Clock | None = None,
    ) -> None:
        self.config = config
        self.routing_version = config.routing_version
        self.providers = (
            providers if isinstance(providers, ProviderRegistry) else ProviderRegistry(providers)
        )
        self.clock: Clock = clock or SYSTEM_CLOCK
        self.breakers = Breakers(config.breaker, self.clock)
        self._names: dict[str, str] = {}
        self._plans: dict[str, RoutePlan] = {}

    @property
    def default_route(self) -> str:
        return self.config.default_route

    def route_name(self, name: str) -> str:
        """The route (or model alias) that ``name`` designates; ``UnknownModel`` if none."""
        canonical = self._names.get(name)
        if canonical is None:
            canonical = resolve_name(self.config, name)[0]
            self._names[name] = canonical
        return canonical

    def is_route(self, name: str) -> bool:
        """``name`` is a configured route (not a model alias or pinned id)."""
        return name in self.config.routes

    def plan(self, name: str) -> RoutePlan:
        """The tiers of ``name`` with their available candidates (``AllProvidersFailed`` when
        none is available)."""
        plan = self._plans.get(name)
        if plan is None:
            plan = plan_route(self.config, self.providers, name)
            self._plans[name] = plan
        return plan

    def route_tiers(self, route: str) -> list[TierPlan]:
        """The tiers a request on ``route`` would try, with the models available right now."""
        return list(self.plan(route).tiers)

    def tier_specs(self, route: str) -> list[list[ModelSpec]]:
        """The model specs of each tier of ``route`` (for cost bounds and rights checks)."""
        return [[c.spec for c in tier.candidates] for tier in self.plan(route).tiers]

    def model_spec(self, alias: str) -> ModelSpec:
        """Prices, ``min_cacheable_tokens``, ``context_window``, pinned ``model_id`` of a model."""
        spec = self.config.find_model(alias)
        if spec is None:
            raise UnknownModel(f"unknown model {alias!r}", details={"model": alias})
        return spec

    def breaker_states(self) -> dict[str, str]:
        """``provider/alias`` -> closed | open | half-open, for every available model."""
        states = {
            f"{s.provider}/{s.alias}": "closed"
            for s in self.config.models.values()
            if self.providers.available(s.provider)
        }
        states.update(self.breakers.states())
        return dict(sorted(states.items()))

    async def aclose(self) -> None:
        await self.providers.aclose()
