"""The governance parts, built once by the wiring and shared by hooks, routers and the CLI."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine

from gateway.governance.audit import AuditLog
from gateway.governance.budgets import BudgetBook, BudgetCounter, BudgetState
from gateway.governance.estimate import RouteInfo
from gateway.governance.keys import KeyStore
from gateway.governance.metrics import GovernanceMetrics
from gateway.governance.prompts import PromptRegistry
from gateway.governance.ratelimit import RateRules
from gateway.principal import Principal


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
    route_info: Callable[[], RouteInfo | None] = lambda: None

    def budget_states(self, principal: Principal | None = None) -> list[BudgetState]:
        """Current-window usage of every budget (or of those that apply to ``principal``)."""
        budgets = self.budgets.all() if principal is None else self.budgets.applicable(principal)
        return self.counter.usage(budgets, datetime.now(UTC))
