"""``Gateway``: the one door every model call goes through.

For each request it resolves the route through the ``RouteCatalogue`` (``request.model`` names a
route, a model alias or a pinned model id; the ``route`` argument wins), asks governance to
``admit`` it, runs the route's tiers through the resilience wrappers (escalating on a weak
answer when the caller gives a judge, streams included), writes the ledger rows (one for the
request, one per model attempt) and calls governance's ``settle`` exactly once with the same
facts, on success and on failure (also when ``admit`` refused the call: ``ctx.reservation`` is
then ``None``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import datetime

from gateway.hooks import Admission, CallContext, GovernanceHooks, NoGovernance, RequestFacts
from gateway.journal import JournalSink, NullJournal
from gateway.ledger.writer import LedgerSink, NullLedger
from gateway.providers.base import EventSource
from gateway.resilience.fallback import Fallback
from gateway.resilience.plan import Composer
from gateway.resilience.streams import close_quietly
from gateway.resilience.timeout import AttemptTimeout
from gateway.resilience.trace import Trace
from gateway.route_catalogue import RouteCatalogue
from gateway.stream_assembly import StreamAssembler
from gateway.types import InvocationResult, Judge, ModelRequest, StreamEvent
from kernel.clock import Clock, Sleep, real_sleep
from kernel.errors import ApiError, ProviderError
from kernel.principal import Principal
from kernel.request_context import new_id

log = logging.getLogger("gateway")


def new_request_id() -> str:
    return "req_" + new_id()


class Gateway:
    def __init__(
        self,
        catalogue: RouteCatalogue,
        *,
        hooks: GovernanceHooks | None = None,
        ledger: LedgerSink | None = None,
        clock: Clock | None = None,
        sleep: Sleep | None = None,
        journal: JournalSink | None = None,
    ) -> None:
        self.catalogue = catalogue
        self.journal: JournalSink = journal or NullJournal()
        self.routing_version = catalogue.routing_version
        self.hooks: GovernanceHooks = hooks or NoGovernance()
        self.ledger: LedgerSink = ledger or NullLedger()
        self.clock: Clock = clock or catalogue.clock
        self.composer = Composer(catalogue.breakers, self.clock, sleep or real_sleep)

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
    ) -> InvocationResult:
        started_at, t0 = self.clock.now(), self.clock.monotonic()
        ctx = self._context(request, principal, route, prompt_version, source, request_id)
        admission = await self.admit(ctx, started_at, t0, stream=False)
        trace = Trace(self.clock)
        route_used = admission.route
        try:
            plan = self.catalogue.plan(admission.route)
            route_used = plan.name
            response = await self.composer.route(plan, trace, judge).complete(admission.request)
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
        judge: Judge | None = None,
        prompt_version: str | None = None,
        source: str = "api",
        request_id: str | None = None,
    ) -> GatewayStream:
        """Anthropic-shaped events; ``.result`` holds the ``InvocationResult`` once exhausted.

        With a ``judge`` a weak tier's stream is followed by a ``retract`` event and the next
        tier's stream (see gateway/resilience/escalation.py)."""
        return GatewayStream(
            self,
            request,
            principal=principal,
            route=route,
            judge=judge,
            prompt_version=prompt_version,
            source=source,
            request_id=request_id or new_request_id(),
        )

    async def count_tokens(self, request: ModelRequest, route: str | None = None) -> int:
        """Input tokens of ``request`` as the first available model of the route counts them."""
        tier = self.catalogue.plan(route or request.model).tiers[0]
        counters: list[EventSource] = [
            AttemptTimeout(
                c.pinned,
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
        await self.catalogue.aclose()

    # Shared by invoke and stream --------------------------------------------------------------
    def _context(
        self,
        request: ModelRequest,
        principal: Principal,
        route: str | None,
        prompt_version: str | None,
        source: str,
        request_id: str | None,
    ) -> CallContext:
        return CallContext(
            request_id=request_id or new_request_id(),
            principal=principal,
            route=self.catalogue.route_name(route or request.model),
            request=request,
            prompt_version=prompt_version,
            routing_version=self.routing_version,
            source=source,
        )

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
        if admission.request is not ctx.request and admission.request.wire is not None:
            # Governance changed the request (upstream redaction): the client's own bytes
            # must not go upstream, so this request takes the SDK path.
            admission.request.with_wire(None)
        return admission

    async def finish(self, facts: RequestFacts) -> None:
        """Write the ledger rows, then let governance settle (exactly once per request), then
        wait for the journal to hold both (a kill after this loses neither).

        A stream's finish gives the event loop back between its parts: many streams ending
        together would otherwise hold the others' last deltas back by every whole finish
        before them (each part is a fraction of it)."""
        try:
            self.ledger.record(facts)
        except Exception:
            log.exception("ledger: could not accept the rows of %s", facts.ctx.request_id)
        if facts.stream:
            await asyncio.sleep(0)
        try:
            await self.hooks.settle(facts)
        except Exception:
            log.exception("governance: settle failed for %s", facts.ctx.request_id)
        if facts.stream:
            await asyncio.sleep(0)
        await self.journal.sync()  # durable before the response (gateway.journal)


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
        judge: Judge | None,
        prompt_version: str | None,
        source: str,
        request_id: str,
    ) -> None:
        self.gateway = gateway
        self.request = request
        self.principal = principal
        self.route = route
        self.judge = judge
        self.prompt_version = prompt_version
        self.source = source
        self.request_id = request_id
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
        ctx = gw._context(
            self.request,
            self.principal,
            self.route,
            self.prompt_version,
            self.source,
            self.request_id,
        )
        admission = await gw.admit(ctx, started_at, t0, stream=True)
        trace = self.trace
        assembler = StreamAssembler()
        route_used = admission.route
        error: BaseException | None = None
        try:
            plan = gw.catalogue.plan(admission.route)
            route_used = plan.name
            events = gw.composer.route(plan, trace, self.judge).stream(admission.request)
            try:
                async for event in events:
                    if event.type == "retract":
                        assembler = StreamAssembler()  # the next tier's answer starts afresh
                    else:
                        assembler.feed(event)
                    if self.ttft_ms is None and event.type == "content_block_delta":
                        self.ttft_ms = (clock.monotonic() - t0) * 1000.0
                    yield event
            finally:  # an early stop closes the model call now, so its attempt is recorded
                await close_quietly(events)
            # The answer is out; what is left (result, ledger, settle) waits behind the other
            # streams whose frames are ready now: many streams ending together would otherwise
            # hold each other's last deltas back by every finish before them.
            await asyncio.sleep(0)
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
                final_verdict=trace.final_verdict,
                requested_route=ctx.route if plan.name != ctx.route else None,
                downgraded_reason=admission.downgraded_reason,
                latency_ms=(clock.monotonic() - t0) * 1000.0,
                ttft_ms=self.ttft_ms,
            )
            await asyncio.sleep(0)  # the result built: let other streams' frames through
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
