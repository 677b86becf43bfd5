"""The governance parts, built once by the wiring and shared by hooks, routers and the CLI."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine

from gateway.route_catalogue import RouteCatalogue
from governance.audit import AuditLog
from governance.billing.budget_currency import all_in_usd
from governance.billing.money import format_money
from governance.billing.rates import Money, RateBook
from governance.budgets import BudgetBook, BudgetCounter, BudgetState
from governance.keys import KeyStore
from governance.metrics import GovernanceMetrics
from governance.prompts import PromptRegistry
from governance.ratelimit import RateRules
from governance.tool_grants import ToolGrants
from kernel.errors import NotFound
from kernel.principal import Principal


@dataclass
class GovernanceParts:
    engine: Engine
    keys: KeyStore
    budgets: BudgetBook
    counter: BudgetCounter
    rules: RateRules
    prompts: PromptRegistry
    audit: AuditLog
    metrics: GovernanceMetrics
    catalogue: RouteCatalogue | None = None  # circuit states for /metrics
    rates: RateBook | None = None  # budgets in another currency than USD
    currency: str = "USD"  # the company currency usage is shown in
    grants: ToolGrants | None = None  # MCP tool grants (deny by default)

    def budget_states(self, principal: Principal | None = None) -> list[BudgetState]:
        """Current-window usage of every budget (or of those that apply to ``principal``)."""
        budgets = self.budgets.all() if principal is None else self.budgets.applicable(principal)
        now = datetime.now(UTC)
        return self.counter.usage(all_in_usd(budgets, self.rates, now), now)

    def in_currency(self, nano_usd: int, when: datetime) -> dict[str, object]:
        """``nano_usd`` in the company currency at the rate in force on ``when``'s day (a
        display figure; invoices convert day by day)."""
        if self.rates is None:
            return {"currency": "USD", "amount": str(Money.usd(nano_usd))}
        try:
            money = self.rates.convert(nano_usd, self.currency, when.astimezone(UTC).date())
        except NotFound as e:
            return {"currency": self.currency, "amount": None, "error": e.message}
        return {
            "currency": money.currency,
            "amount": str(money.amount),
            "display": format_money(money.amount, money.currency),
            "rate": money.rate.label,
        }
