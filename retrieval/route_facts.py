"""What the answer service needs to know of a route, read from the gateway's route catalogue:
its canonical name, its first available model, how many tiers it has, and the first model's
cache economics (which decide whether padding the prompt prefix to the cacheable minimum pays).
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.route_catalogue import RouteCatalogue
from kernel.errors import ApiError
from retrieval.cache_plan import CacheEconomics


@dataclass(frozen=True)
class RouteFacts:
    name: str
    first_model: str  # "" when no model of the route is available
    tiers: int = 1
    economics: CacheEconomics | None = None


class RouteFactsBook:
    """``facts(route)``: resolved once per route name (the catalogue's plans are static)."""

    def __init__(self, catalogue: RouteCatalogue) -> None:
        self.catalogue = catalogue
        self._facts: dict[str | None, RouteFacts] = {}

    def facts(self, route: str | None) -> RouteFacts:
        found = self._facts.get(route)
        if found is None:
            found = self._resolve(route)
            self._facts[route] = found
        return found

    def _resolve(self, route: str | None) -> RouteFacts:
        cat = self.catalogue
        name = cat.route_name(route or cat.default_route)  # UnknownModel when unknown
        try:
            tiers = cat.route_tiers(name)
        except ApiError:  # no model of the route is available: the ask degrades later
            return RouteFacts(name=name, first_model="", tiers=0)
        spec = tiers[0].candidates[0].spec
        p = spec.prices
        return RouteFacts(
            name=name,
            first_model=spec.alias,
            tiers=len(tiers),
            economics=CacheEconomics(
                model=spec.alias,
                min_cacheable_tokens=spec.min_cacheable_tokens,
                prompt_caching=spec.prompt_caching,
                input_price=float(p.input),
                cache_write_price=float(p.cache_write_5m),
                cache_read_price=float(p.cache_read),
            ),
        )
