"""``Gateway``: the one door every model call goes through.

For each request it resolves the route (``request.model`` names a route, a model alias or a
pinned model id; the ``route`` argument wins), asks governance to ``admit`` it, runs the route's
tiers through the resilience wrappers (from ``start_tier``: a caller that judged a tier's answer
itself skips the tiers it already tried), writes the ledger rows (one for the request, one per
model attempt) and calls governance's ``settle`` exactly once, on success and on failure (also
when ``admit`` refused the call: ``ctx.reservation`` is then ``None``).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Mapping
from datetime import datetime

from gateway.config import GatewayConfig, ModelSpec
from gateway.hooks import Admission, CallContext, GovernanceHooks, NoGovernance
from gateway.ledger.rows import RequestFacts
from gateway.ledger.writer import LedgerSink, NullLedger
from gateway.provider_registry import ProviderRegistry
from gateway.providers.base import Provider
from gateway.resilience.breaker import Breakers
from gateway.resilience.fallback import Fallback
from gateway.resilience.model_call import Pinned
from gateway.resilience.plan import (
    Composer,
    RoutePlan,
    TierPlan,
    check_start_tier,
    plan_route,
    resolve_name,
    start_at,
)
from gateway.resilience.streams import close_quietly
from gateway.resilience.timeout import AttemptTimeout
from gateway.resilience.trace import Trace
from gateway.stream_assembly import StreamAssembler
from gateway.types import InvocationResult, Judge, ModelRequest, StreamEvent
from kernel.clock import SYSTEM_CLOCK, Clock, Sleep, real_sleep
from kernel.errors import ApiError, ProviderError, UnknownModel
from kernel.principal import Principal

log = logging.getLogger("gateway")


def new_request_id() -> str:
    return "req_" + uuid.uuid4().hex


class Gateway:
    def __init__(
        self,
        config: GatewayConfig,
        providers: ProviderRegistry | Mapping[str, Provider | None],
        *,
        hooks: GovernanceHooks | None = None,
        ledger: LedgerSink | None = None,
        clock: Clock | None = None,
        sleep: Sleep | None = None,
    ) -> None:
        self.config = config
        self.routing_version = config.routing_version
        self.providers = (
            providers if isinstance(providers, ProviderRegistry) else ProviderRegistry(providers)
        )
        self.hooks: GovernanceHooks = hooks or NoGovernance()
        self.ledger: LedgerSink = ledger or NullLedger()
        self.clock: Clock = clock or SYSTEM_CLOCK
        self.breakers = Breakers(config.breaker, self.clock)
        self.composer = Composer(self.breakers, self.clock, sleep or real_sleep)
        self._names: dict[str, str] = {}
        self._plans: dict[str, RoutePlan] = {}

    # Lookups ----------------------------------------------------------------------------------
    def route_name(self, name: str) -> str:
        """The route (or model alias) that ``name`` designates; ``UnknownModel`` if none."""
        canonical = self._names.get(name)
        if canonical is None:
            canonical = resolve_name(self.config, name)[0]
            self._names[name] = canonical
        return canonical

    def plan(self, name: str) -> RoutePlan:
        plan = self._plans.get(name)
        if plan is None:
            plan = plan_route(self.config, self.providers, name)
            self._plans[name] = plan
        return plan

    def model_spec(self, alias: str) -> ModelSpec:
        """Prices, ``min_cacheable_tokens``, ``context_window``, pinned ``model_id`` of a model."""
        spec = self.config.find_model(alias)
        if spec is None:
            raise UnknownModel(f"unknown model {alias!r}", details={"model": alias})
        return spec

    def route_tiers(self, route: str) -> list[TierPlan]:
        """The tiers a request on ``route`` would try, with the models available right now."""
        return list(self.plan(route).tiers)

    def breaker_states(self) -> dict[str, str]:
        """``provider/alias`` -> closed | open | half-open, for every available model."""
        states = {
            f"{s.provider}/{s.alias}": "closed"
            for s in self.config.models.values()
            if self.providers.available(s.provider)
        }
        states.update(self.breakers.states())
        return dict(sorted(states.items()))

    # Calls ------------------------------------------------------------------------------------
    async def invoke(
        self,
        request: ModelRequest,
        *,
        principal: Principal,
        route: str | None = None,
        judge: Judge | None = None,
        prompt_version: str | None = None,
        source: str = "api",
        request_id: str | None = None,
        start_tier: int = 0,
    ) -> InvocationResult:
        started_at, t0 = self.clock.now(), self.clock.monotonic()
        name = self.route_name(route or request.model)
        self.check_start_tier(name, start_tier)
        ctx = CallContext(
            request_id=request_id or new_request_id(),
            principal=principal,
            route=name,
            request=request,
            prompt_version=prompt_version,
            routing_version=self.routing_version,
            source=source,
        )
        admission = await self.admit(ctx, started_at, t0, stream=False)
        trace = Trace(self.clock)
        route_used = admission.route
        try:
            plan = self.plan(admission.route)
            route_used = plan.name
            start = start_at(plan, start_tier)
            response = await self.composer.route(plan, trace, judge, start).complete(
                admission.request
            )
        except BaseException as exc:
            await self.finish(
                RequestFacts(
                    ctx,
                    started_at,
                    route_used,
                    self._ms(t0),
                    False,
                    trace.attempts,
                    error=exc,
                    downgraded_reason=admission.downgraded_reason,
                )
            )
            raise
        result = InvocationResult(
            request_id=ctx.request_id,
            route=plan.name,
            response=response,
            attempts=trace.attempts,
            routing_version=self.routing_version,
            prompt_version=prompt_version,
            final_verdict=trace.final_verdict,
            requested_route=ctx.route if plan.name != ctx.route else None,
            downgraded_reason=admission.downgraded_reason,
            latency_ms=self._ms(t0),
        )
        await self.finish(
            RequestFacts(
                ctx,
                started_at,
                plan.name,
                result.latency_ms,
                False,
                trace.attempts,
                result=result,
                downgraded_reason=admission.downgraded_reason,
            )
        )
        return result

    def stream(
        self,
        request: ModelRequest,
        *,
        principal: Principal,
        route: str | None = None,
        prompt_version: str | None = None,
        source: str = "api",
        request_id: str | None = None,
        start_tier: int = 0,
    ) -> GatewayStream:
        """Anthropic-shaped events; ``.result`` holds the ``InvocationResult`` once exhausted."""
        return GatewayStream(
            self,
            request,
            principal=principal,
            route=route,
            prompt_version=prompt_version,
            source=source,
            request_id=request_id or new_request_id(),
            start_tier=start_tier,
        )

    async def count_tokens(self, request: ModelRequest, route: str | None = None) -> int:
        """Input tokens of ``request`` as the first available model of the route counts them."""
        tier = self.plan(route or request.model).tiers[0]
        counters: list[Provider] = [
            AttemptTimeout(
                Pinned(c.provider, c.spec),
                tier.spec.attempt_timeout_s,
                provider=c.spec.provider,
                model=c.spec.model_id,
            )
            for c in tier.candidates
        ]
        return await Fallback(counters, Trace(self.clock), label="count_tokens").count_tokens(
            request
        )

    async def aclose(self) -> None:
        """Write every pending ledger row, then close the providers."""
        await self.ledger.aclose()
        await self.providers.aclose()

    # Shared by invoke and stream --------------------------------------------------------------
    def check_start_tier(self, route: str, start_tier: int) -> None:
        """Before ``admit``: a bad ``start_tier`` is refused with no reservation, no ledger row."""
        check_start_tier(self.plan, route, start_tier)

    def _ms(self, t0: float) -> float:
        return (self.clock.monotonic() - t0) * 1000.0

    async def admit(
        self, ctx: CallContext, started_at: datetime, t0: float, *, stream: bool
    ) -> Admission:
        try:
            admission = await self.hooks.admit(ctx)
        except BaseException as exc:
            await self.finish(
                RequestFacts(
                    ctx,
                    started_at,
                    ctx.route,
                    self._ms(t0),
                    stream,
                    [],
                    error=exc,
                    rejected=isinstance(exc, ApiError),
                )
            )
            raise
        ctx.reservation = admission.reservation
        if admission.downgraded_reason:
            ctx.notes["downgraded_reason"] = admission.downgraded_reason
        return admission

    async def finish(self, facts: RequestFacts) -> None:
        """Write the ledger rows, then let governance settle (exactly once per request)."""
        # A failed request has no result: governance charges its attempts from here.
        facts.ctx.notes["attempts"] = facts.attempts
        try:
            self.ledger.record(facts)
        except Exception:
            log.exception("ledger: could not accept the rows of %s", facts.ctx.request_id)
        try:
            await self.hooks.settle(facts.ctx, facts.result, facts.error)
        except Exception:
            log.exception("governance: settle failed for %s", facts.ctx.request_id)


class GatewayStream:
    """One streamed call: iterate it for events; ``result`` is set once it is exhausted.

    Nothing happens until the first event is asked for (then the request is admitted and the
    route is tried). Errors before the first content event raise from that first ``__anext__``
    (so an HTTP layer can still answer with an error status); later ones raise mid-stream.
    Call ``aclose`` if you stop early: the ledger then records the request as cancelled.
    """

    def __init__(
        self,
        gateway: Gateway,
        request: ModelRequest,
        *,
        principal: Principal,
        route: str | None,
        prompt_version: str | None,
        source: str,
        request_id: str,
        start_tier: int = 0,
    ) -> None:
        self.gateway = gateway
        self.request = request
        self.principal = principal
        self.route = route
        self.prompt_version = prompt_version
        self.source = source
        self.request_id = request_id
        self.start_tier = start_tier
        self.result: InvocationResult | None = None
        self.ttft_ms: float | None = None
        self.trace = Trace(gateway.clock)
        self._events: AsyncIterator[StreamEvent] | None = None

    def __aiter__(self) -> AsyncIterator[StreamEvent]:
        if self._events is None:
            self._events = self._run()
        return self._events

    async def __anext__(self) -> StreamEvent:
        return await self.__aiter__().__anext__()

    async def aclose(self) -> None:
        if self._events is not None:
            await self._events.aclose()  # type: ignore[attr-defined]

    async def _run(self) -> AsyncIterator[StreamEvent]:
        gw = self.gateway
        clock = gw.clock
        started_at, t0 = clock.now(), clock.monotonic()
        ctx = CallContext(
            request_id=self.request_id,
            principal=self.principal,
            route=gw.route_name(self.route or self.request.model),
            request=self.request,
            prompt_version=self.prompt_version,
            routing_version=gw.routing_version,
            source=self.source,
        )
        gw.check_start_tier(ctx.route, self.start_tier)
        admission = await gw.admit(ctx, started_at, t0, stream=True)
        trace = self.trace
        assembler = StreamAssembler()
        route_used = admission.route
        error: BaseException | None = None
        try:
            plan = gw.plan(admission.route)
            route_used = plan.name
            start = start_at(plan, self.start_tier)
            events = gw.composer.route(plan, trace, start=start).stream(admission.request)
            try:
                async for event in events:
                    assembler.feed(event)
                    if self.ttft_ms is None and event.type == "content_block_delta":
                        self.ttft_ms = (clock.monotonic() - t0) * 1000.0
                    yield event
            finally:  # an early stop closes the model call now, so its attempt is recorded
                await close_quietly(events)
            answered = next((a for a in reversed(trace.attempts) if a.outcome == "ok"), None)
            if answered is None:
                raise ProviderError("the stream ended without an answer")
            response = assembler.response(
                provider=answered.provider,
                model_alias=answered.model_alias,
                model_id=answered.model_id,
            )
            self.result = InvocationResult(
                request_id=ctx.request_id,
                route=plan.name,
                response=response,
                attempts=trace.attempts,
                routing_version=gw.routing_version,
                prompt_version=self.prompt_version,
                requested_route=ctx.route if plan.name != ctx.route else None,
                downgraded_reason=admission.downgraded_reason,
                latency_ms=(clock.monotonic() - t0) * 1000.0,
                ttft_ms=self.ttft_ms,
            )
        except BaseException as exc:
            error = exc
            raise
        finally:
            await gw.finish(
                RequestFacts(
                    ctx,
                    started_at,
                    route_used,
                    (clock.monotonic() - t0) * 1000.0,
                    True,
                    trace.attempts,
                    result=self.result,
                    error=error,
                    ttft_ms=self.ttft_ms,
                    downgraded_reason=admission.downgraded_reason,
                )
            )
