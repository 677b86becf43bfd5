"""The governance parts, built once by the wiring and shared by hooks, routers and the CLI."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine

from gateway.route_catalogue import RouteCatalogue
from governance.audit import AuditLog
from governance.billing.budget_currency import all_in_usd
from governance.billing.rates import RateBook
from governance.budgets import BudgetBook, BudgetCounter, BudgetState
from governance.keys import KeyStore
from governance.metrics import GovernanceMetrics
from governance.prompts import PromptRegistry
from governance.ratelimit import RateRules
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

    def budget_states(self, principal: Principal | None = None) -> list[BudgetState]:
        """Current-window usage of every budget (or of those that apply to ``principal``)."""
        budgets = self.budgets.all() if principal is None else self.budgets.applicable(principal)
        now = datetime.now(UTC)
        return self.counter.usage(all_in_usd(budgets, self.rates, now), now)
