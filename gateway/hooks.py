"""Where governance plugs into the invocation core.

``Gateway`` (gateway/service.py) calls one ``GovernanceHooks`` around every request:
``admit`` before any provider is called (rate limits, budget reservation, route downgrade past
a soft limit, upstream redaction) and ``settle`` exactly once afterwards, on success and on
failure (budget settlement, audit record, metrics). ``NoGovernance`` is the do-nothing default.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from gateway.types import InvocationResult, ModelRequest
from kernel.principal import Principal


@dataclass
class CallContext:
    request_id: str
    principal: Principal
    route: str
    request: ModelRequest
    prompt_version: str | None = None
    routing_version: str = ""
    source: str = "api"  # api | ask | eval | cli
    # Filled by ``admit``: what was reserved, so ``settle`` can release or settle it.
    reservation: Any = None
    notes: dict[str, Any] = field(default_factory=dict)


@dataclass
class Admission:
    """``admit``'s decision. ``route`` may differ from the asked one (soft budget limit)."""

    route: str
    request: ModelRequest
    reservation: Any = None
    downgraded_reason: str | None = None


class GovernanceHooks(Protocol):
    async def admit(self, ctx: CallContext) -> Admission:
        """Raise ``RateLimited``/``BudgetExceeded``/``PermissionDenied`` to refuse the call."""
        ...

    async def settle(
        self, ctx: CallContext, result: InvocationResult | None, error: BaseException | None
    ) -> None: ...


class NoGovernance:
    """Admit everything, record nothing (unit tests and bare gateway use)."""

    async def admit(self, ctx: CallContext) -> Admission:
        return Admission(route=ctx.route, request=ctx.request)

    async def settle(
        self, ctx: CallContext, result: InvocationResult | None, error: BaseException | None
    ) -> None:
        return None
