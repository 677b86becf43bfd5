"""Where governance plugs into the invocation core.

``Gateway`` (gateway/service.py) calls one ``GovernanceHooks`` around every request:
``admit`` before any provider is called (rate limits, budget reservation, route downgrade past
a soft limit, upstream redaction) and ``settle`` exactly once afterwards, on success and on
failure (budget settlement, audit record, metrics), with the same typed ``RequestFacts`` the
ledger is written from. ``NoGovernance`` is the do-nothing default.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from gateway.types import AttemptRecord, InvocationResult, ModelRequest
from kernel.principal import Principal


@dataclass
class CallContext:
    request_id: str
    principal: Principal
    route: str  # the route (or model alias) asked for, canonical
    request: ModelRequest
    prompt_version: str | None = None
    routing_version: str = ""
    source: str = "api"  # api | ask | eval | cli | ingest | mcp
    # What ``admit`` reserved (governance's own ticket, opaque to the gateway), handed back to
    # ``settle`` so it can release or settle it; ``None`` when admit refused the call.
    reservation: object | None = None


@dataclass
class Admission:
    """``admit``'s decision. ``route`` may differ from the asked one (soft budget limit)."""

    route: str
    request: ModelRequest
    reservation: object | None = None
    downgraded_reason: str | None = None


@dataclass(slots=True)
class RequestFacts:
    """What the gateway knows about a request once it is over: the ledger's rows and
    governance's settlement are both made from it."""

    ctx: CallContext
    started_at: datetime
    route: str  # the route that ran (after any downgrade)
    latency_ms: float
    stream: bool
    attempts: list[AttemptRecord]
    result: InvocationResult | None = None
    error: BaseException | None = None
    rejected: bool = False  # admit refused it (no provider was called)
    ttft_ms: float | None = None
    downgraded_reason: str | None = None


class GovernanceHooks(Protocol):
    async def admit(self, ctx: CallContext) -> Admission:
        """Raise ``RateLimited``/``BudgetExceeded``/``PermissionDenied`` to refuse the call."""
        ...

    async def settle(self, facts: RequestFacts) -> None: ...


class NoGovernance:
    """Admit everything, record nothing (unit tests and bare gateway use)."""

    async def admit(self, ctx: CallContext) -> Admission:
        return Admission(route=ctx.route, request=ctx.request)

    async def settle(self, facts: RequestFacts) -> None:
        return None
