"""The providers a gateway may call, by name, built on first use.

A provider whose factory is ``None`` is unavailable (no key configured): routes skip its
models. Factories run lazily so that a provider's SDK is imported only when a route uses it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping

from gateway.providers.base import Provider

ProviderFactory = Callable[[], Provider]


class ProviderRegistry:
    def __init__(
        self,
        factories: Mapping[str, ProviderFactory | Provider | None],
        *,
        reasons: Mapping[str, str] | None = None,
    ) -> None:
        self._factories: dict[str, ProviderFactory | None] = {}
        self._built: dict[str, Provider] = {}
        for name, value in factories.items():
            if value is None:
                self._factories[name] = None
            elif isinstance(value, Provider):
                self._built[name] = value
                self._factories[name] = None
            else:
                self._factories[name] = value
        self._reasons = dict(reasons or {})

    @classmethod
    def of(cls, **providers: Provider | None) -> ProviderRegistry:
        return cls(providers)

    def available(self, provider: str) -> bool:
        return provider in self._built or self._factories.get(provider) is not None

    def why_unavailable(self, provider: str) -> str:
        if self.available(provider):
            return "available"
        return self._reasons.get(provider, f"provider {provider!r} is not configured")

    def get(self, provider: str) -> Provider:
        built = self._built.get(provider)
        if built is not None:
            return built
        factory = self._factories.get(provider)
        if factory is None:
            raise KeyError(
                f"provider {provider!r} is not available: {self.why_unavailable(provider)}"
            )
        built = factory()
        self._built[provider] = built
        return built

    def names(self) -> list[str]:
        return sorted({*self._factories, *self._built})

    async def aclose(self) -> None:
        """Close every provider that was built (those with an ``aclose``/``close``)."""
        for provider in self._built.values():
            closer = getattr(provider, "aclose", None) or getattr(provider, "close", None)
            if closer is None:
                continue
            result = closer()
            if inspect.isawaitable(result):
                await result
