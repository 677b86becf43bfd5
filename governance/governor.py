"""``Governance``: the ``GovernanceHooks`` the gateway calls around every request.

``admit`` (before any provider is called):
    1. rights: the key may use the route (or model alias) it names, else ``PermissionDenied``;
    2. rate limits: requests and estimated prompt tokens per minute, else ``RateLimited``;
    3. budgets: reserve the worst-case cost on every applicable budget, else ``BudgetExceeded``;
       past a soft limit the request is moved to the ``economy`` route (and an alert counted);
    4. with ``redact_upstream``, the request sent upstream is redacted.

``settle`` (exactly once afterwards, also when ``admit`` refused): settle the reservation with
the real cost (in line, or handed to the background ``BudgetWorker``), charge the tokens the
call really used to the rate limits, update the metrics and hand the audit record to the
background writer (which redacts it, then appends it).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import anyio.to_thread

from gateway.hooks import Admission, CallContext, RequestFacts
from gateway.journal import JournalSink
from gateway.route_catalogue import RouteCatalogue
from gateway.types import ModelRequest, Usage
from governance.audit_record import JsonRedactor, raw_record
from governance.audit_writer import AuditWriter
from governance.billing.budget_currency import all_in_usd
from governance.billing.rates import RateBook
from governance.budget_worker import BudgetWorker
from governance.budgets import Budget, BudgetBook, BudgetCounter, Reservation
from governance.estimate import estimate_prompt_tokens, worst_case_nano
from governance.journal_replay import SETTLEMENT, settlement_record
from governance.metrics import GovernanceMetrics
from governance.ratelimit import RateLimiter, RateTicket
from kernel.after_response import later
from kernel.errors import PermissionDenied, UnknownModel
from kernel.principal import Principal

log = logging.getLogger("governance")

Estimator = Callable[[str, ModelRequest, int], int]
"""(route, request, prompt tokens) -> worst-case cost in nano-USD."""


@dataclass
class Ticket:
    """What ``admit`` took (``CallContext.reservation``), released by ``settle``."""

    route: str
    prompt_tokens: int
    estimate_nano: int
    reservation: Reservation | None
    rate: RateTicket | None


class Governance:
    def __init__(
        self,
        *,
        budgets: BudgetBook,
        counter: BudgetCounter,
        metrics: GovernanceMetrics,
        limiter: RateLimiter | None = None,
        audit: AuditWriter | None = None,
        worker: BudgetWorker | None = None,
        redactor: JsonRedactor | None = None,
        redact_upstream: bool = False,
        catalogue: RouteCatalogue | None = None,
        estimator: Estimator | None = None,
        economy_route: str = "economy",
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        rates: RateBook | None = None,
        journal: JournalSink | None = None,
    ) -> None:
        self.journal = journal
        self.budgets = budgets
        self.counter = counter
        self.metrics = metrics
        self.limiter = limiter
        self.audit = audit
        self.worker = worker
        self.redactor = redactor
        self.redact_upstream = redact_upstream
        self.catalogue = catalogue
        self._circuits_unsettled = True  # the first request records every circuit
        self.estimator = estimator or self._route_estimate
        self.economy_route = economy_route
        self.now = now
        self.rates = rates  # prices budgets set in another currency than USD
        self._economy_known: bool | None = None

    # admit ------------------------------------------------------------------------------------
    async def admit(self, ctx: CallContext) -> Admission:
        now = self.now()
        principal = ctx.principal
        self._check_rights(principal, ctx.route)
        prompt_tokens = estimate_prompt_tokens(ctx.request)
        rate = None
        if self.limiter is not None:
            rate = await self.limiter.admit(principal, ctx.route, prompt_tokens)
        route, reason, reservation, estimate = ctx.route, None, None, 0
        try:
            budgets = await self._applicable(principal)
            if budgets:
                estimate = self.estimator(route, ctx.request, prompt_tokens)
                reservation = await self._reserve(budgets, estimate, now)
                self.metrics.record_budgets(reservation.states)
                over = [s for s in reservation.states if s.over_soft]
                if over and route != self.economy_route and self._economy_exists():
                    label = over[0].budget.label
                    reason = f"budget {label} is past its soft limit"
                    route = self.economy_route
                    self.metrics.downgrades.labels(label).inc()
            request = ctx.request
            if self.redact_upstream and self.redactor is not None:
                request = await anyio.to_thread.run_sync(self._redacted_request, request)
        except BaseException:
            if reservation is not None:
                await self._settle_budget(reservation, 0, ctx.request_id)
            raise
        ticket = Ticket(route, prompt_tokens, estimate, reservation, rate)
        return Admission(route=route, request=request, reservation=ticket, downgraded_reason=reason)

    def _check_rights(self, principal: Principal, name: str) -> None:
        """A route must be allowed (``--routes``) and use only allowed models (``--models``);
        a model alias must be an allowed model (or, without a model list, an allowed route)."""
        info = self.catalogue
        is_alias = info is not None and not info.is_route(name)
        if is_alias:
            allowed = (
                principal.may_use_model(name)
                if principal.allowed_models
                else principal.may_use_route(name)
            )
            if not allowed:
                raise self._denied(principal, f"model {name!r}", {"model": name})
            return
        if not principal.may_use_route(name):
            raise self._denied(principal, f"route {name!r}", {"route": name})
        if principal.allowed_models and info is not None:
            models = {spec.alias for tier in info.tier_specs(name) for spec in tier}
            outside = sorted(m for m in models if not principal.may_use_model(m))
            if outside:
                raise self._denied(
                    principal,
                    f"route {name!r}: it may use {', '.join(outside)}",
                    {"route": name, "models": outside},
                )

    @staticmethod
    def _denied(principal: Principal, what: str, details: dict[str, object]) -> PermissionDenied:
        return PermissionDenied(
            f"API key {principal.key_id or principal.user_id!r} may not use {what}",
            details=details,
        )

    async def _applicable(self, principal: Principal) -> list[Budget]:
        cached = self.budgets.cached_applicable(principal)
        if cached is None:
            cached = await anyio.to_thread.run_sync(self.budgets.applicable, principal)
        if all(b.currency == "USD" for b in cached):
            return cached
        now = self.now()
        return await anyio.to_thread.run_sync(all_in_usd, cached, self.rates, now)

    def _route_estimate(self, route: str, request: ModelRequest, prompt_tokens: int) -> int:
        if self.catalogue is None:
            return 0
        return worst_case_nano(self.catalogue.tier_specs(route), prompt_tokens, request.max_tokens)

    def _economy_exists(self) -> bool:
        if self._economy_known is None:
            if self.catalogue is None:
                return True
            try:
                self.catalogue.plan(self.economy_route)
                self._economy_known = True
            except UnknownModel:
                log.warning("no %r route: soft budget limits cannot downgrade", self.economy_route)
                self._economy_known = False
        return self._economy_known

    def _redacted_request(self, request: ModelRequest) -> ModelRequest:
        assert self.redactor is not None
        return request.model_copy(
            update={
                "messages": self.redactor.redact_json(request.messages),
                "system": self.redactor.redact_json(request.system),
            }
        )

    # settle -----------------------------------------------------------------------------------
    async def settle(self, facts: RequestFacts) -> None:
        ctx, result = facts.ctx, facts.result
        ticket = ctx.reservation if isinstance(ctx.reservation, Ticket) else None
        admitted = ticket is not None
        attempts = facts.attempts
        actual = sum(a.cost_nano_usd for a in attempts)
        if ticket is not None and ticket.reservation is not None:
            await self._settle_budget(ticket.reservation, actual, ctx.request_id)
        if ticket is not None and ticket.rate is not None and self.limiter is not None:
            usage = result.usage if result is not None else _total_usage(attempts)
            try:
                await self.limiter.charge(
                    ticket.rate, usage.total_input_tokens, usage.output_tokens
                )
            except Exception:
                log.exception("rate-limit charge failed for %s", ctx.request_id)
        # Neither is journaled nor read by the answer: after the response (kernel.after_response).
        later(lambda: self._observe(facts, admitted))
        if self.journal is not None and ticket is not None and ticket.reservation is not None:
            # after the hand-offs above: the journal's segment outlives them (gateway.journal)
            self.journal.put(
                ctx.request_id, SETTLEMENT, settlement_record(ticket.reservation, actual)
            )

    def _observe(self, facts: RequestFacts, admitted: bool) -> None:
        """The request's metrics and audit record."""
        ctx, attempts = facts.ctx, facts.attempts
        try:
            self.metrics.record(
                route=facts.route,
                principal=ctx.principal,
                attempts=attempts,
                result=facts.result,
                error=facts.error,
                admitted=admitted,
            )
            # A circuit changes state only on a failed attempt, or while one is not closed.
            if self.catalogue is not None and (
                self._circuits_unsettled or any(a.error_class for a in attempts)
            ):
                states = self.catalogue.breaker_states()
                self.metrics.record_circuits(states)
                self._circuits_unsettled = any(v != "closed" for v in states.values())
        except Exception:
            log.exception("metrics update failed for %s", ctx.request_id)
        if self.audit is not None:
            # Built here: the writer's thread then only forwards it (``audit_process.pack``),
            # and the request's objects are freed now instead of after the next batch.
            try:
                record = raw_record(facts, admitted=admitted, now=self.now())
            except Exception:  # a bug in record building: still a record, and the chain goes on
                log.exception("audit: could not build the record of %s", ctx.request_id)
                record = (ctx.request_id, self.now(), {"record_build_failed": True})
            self.audit.submit(record)

    async def _reserve(self, budgets: list[Budget], amount: int, now: datetime) -> Reservation:
        if self.worker is not None:
            return await self.worker.reserve(budgets, amount, now)
        return await anyio.to_thread.run_sync(self.counter.reserve, budgets, amount, now)

    async def _settle_budget(self, reservation: Reservation, actual: int, request_id: str) -> None:
        if self.worker is not None:
            self.worker.settle(reservation, actual)
            return
        try:
            states = await anyio.to_thread.run_sync(self.counter.settle, reservation, actual)
            self.metrics.record_budgets(states)
        except Exception:
            log.exception("budget settlement failed for %s", request_id)

    def flush_writers(self, timeout: float | None = None) -> bool:
        """Wait until the budget and audit writers wrote what they were handed (the journal's
        checkpoint); ``False`` if one is still behind after ``timeout``."""
        ok = True
        for writer in (self.worker, self.audit):
            if writer is not None:
                ok = writer.flush(timeout) and ok
        return ok

    async def aclose(self) -> None:
        if self.worker is not None:
            await self.worker.aclose()
        if self.limiter is not None:
            await self.limiter.aclose()
        if self.audit is not None:
            await self.audit.aclose()


def _total_usage(attempts: Sequence[object]) -> Usage:
    return Usage.total(a.usage for a in attempts)  # type: ignore[attr-defined]
