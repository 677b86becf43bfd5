"""Prometheus metrics of the gateway, safe with several worker processes.

With ``PROMETHEUS_MULTIPROC_DIR`` set (``loregate serve --workers N`` sets it), prometheus-client
writes every value to files in that directory and ``GET /metrics`` merges them, so any worker
answers for all. The variable must be set before ``prometheus_client`` is first imported.

    loregate_requests_total{route,model,outcome}          requests (model: the one that answered)
    loregate_model_attempts_total{route,model,outcome}    model calls: ok|error|fallback|escalated
    loregate_failures_total{route,model,error}            failed attempts and requests by error code
    loregate_retries_total / loregate_timeouts_total / loregate_refusals_total /
    loregate_escalations_total / loregate_fallbacks_total  {route,model}
    loregate_rejections_total{reason}                     refused by governance
    loregate_budget_downgrades_total{budget}              soft-limit alerts (economy route)
    loregate_circuit_state{breaker}                       0 closed, 1 half-open, 2 open
    loregate_tokens_total{route,model,kind}               input, output, cache_write_5m,
                                                          cache_write_1h, cache_read
    loregate_cost_usd_total{department,project}
    loregate_cache_hit_ratio{route}                       cache_read / all input tokens (at scrape)
    loregate_request_latency_seconds{route,model}         histogram
    loregate_time_to_first_token_seconds{route,model}     histogram (streams)
    loregate_budget_used_ratio{budget} / loregate_budget_spent_usd{budget} /
    loregate_budget_over_soft_limit{budget}
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

from gateway.types import AttemptRecord, InvocationResult, Usage
from governance.budgets import NANO, BudgetState
from kernel.errors import ApiError
from kernel.principal import Principal

LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0)
TTFT_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0)
CIRCUIT = {"closed": 0, "half-open": 1, "half_open": 1, "open": 2}
RM = ["route", "model"]


def token_kinds(usage: Usage) -> dict[str, int]:
    split = usage.cache_creation_5m_input_tokens + usage.cache_creation_1h_input_tokens
    return {
        "input": usage.input_tokens,
        "output": usage.output_tokens,
        "cache_write_5m": usage.cache_creation_5m_input_tokens
        + max(0, usage.cache_creation_input_tokens - split),
        "cache_write_1h": usage.cache_creation_1h_input_tokens,
        "cache_read": usage.cache_read_input_tokens,
    }


class GovernanceMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry(auto_describe=True)
        self._children: dict[tuple[Any, tuple[Any, ...]], Any] = {}
        r = self.registry
        self.requests = Counter(
            "loregate_requests",
            "Gateway requests by route, answering model and outcome",
            ["route", "model", "outcome"],
            registry=r,
        )
        self.attempts = Counter(
            "loregate_model_attempts",
            "Model calls by route, model and outcome",
            ["route", "model", "outcome"],
            registry=r,
        )
        self.failures = Counter(
            "loregate_failures",
            "Failed model calls and requests by error code",
            ["route", "model", "error"],
            registry=r,
        )
        self.retries = Counter("loregate_retries", "Retried model calls", RM, registry=r)
        self.timeouts = Counter("loregate_timeouts", "Model calls that timed out", RM, registry=r)
        self.refusals = Counter("loregate_refusals", "Answers that were refusals", RM, registry=r)
        self.escalations = Counter(
            "loregate_escalations",
            "Weak answers escalated to the next tier (model: the weak one)",
            RM,
            registry=r,
        )
        self.fallbacks = Counter(
            "loregate_fallbacks", "Models that failed over to the next candidate", RM, registry=r
        )
        self.rejections = Counter(
            "loregate_rejections", "Requests refused by governance", ["reason"], registry=r
        )
        self.downgrades = Counter(
            "loregate_budget_downgrades",
            "Soft-limit alerts: requests sent to the economy route",
            ["budget"],
            registry=r,
        )
        self.circuit = Gauge(
            "loregate_circuit_state",
            "Circuit breaker state: 0 closed, 1 half-open, 2 open",
            ["breaker"],
            registry=r,
            multiprocess_mode="livemostrecent",
        )
        self.tokens = Counter(
            "loregate_tokens",
            "Tokens by route, model and kind",
            ["route", "model", "kind"],
            registry=r,
        )
        self.cost = Counter(
            "loregate_cost_usd",
            "Cost in USD by department and project",
            ["department", "project"],
            registry=r,
        )
        self.latency = Histogram(
            "loregate_request_latency_seconds",
            "Request latency",
            RM,
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.ttft = Histogram(
            "loregate_time_to_first_token_seconds",
            "Time to the first streamed token",
            RM,
            buckets=TTFT_BUCKETS,
            registry=r,
        )
        self.tool_calls = Counter(
            "loregate_mcp_tool_calls",
            "MCP tool calls by server, tool and outcome (ok, error, denied, rate_limited)",
            ["server", "tool", "outcome"],
            registry=r,
        )
        self.tool_latency = Histogram(
            "loregate_mcp_tool_latency_seconds",
            "MCP tool call latency",
            ["server", "tool"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.budget_used = Gauge(
            "loregate_budget_used_ratio",
            "Spent / hard limit in the current window",
            ["budget"],
            registry=r,
            multiprocess_mode="livemostrecent",
        )
        self.budget_spent = Gauge(
            "loregate_budget_spent_usd",
            "Spent in the current window (USD)",
            ["budget"],
            registry=r,
            multiprocess_mode="livemostrecent",
        )
        self.budget_over_soft = Gauge(
            "loregate_budget_over_soft_limit",
            "1 when past the soft limit",
            ["budget"],
            registry=r,
            multiprocess_mode="livemostrecent",
        )

    # Updates ----------------------------------------------------------------------------------
    def _child(self, metric: Any, *labels: Any) -> Any:
        """``metric.labels(*labels)``, remembered: prometheus_client's ``labels`` validates
        and takes a lock on every call, a large share of ``record``'s time per request (no
        child is ever removed, so a remembered one stays the metric's)."""
        key = (metric, labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return child

    def record(
        self,
        *,
        route: str,
        principal: Principal,
        attempts: Sequence[AttemptRecord],
        result: InvocationResult | None,
        error: BaseException | None,
        admitted: bool,
    ) -> None:
        if not admitted:
            reason = error.code if isinstance(error, ApiError) else "error"
            self._child(self.rejections, reason).inc()
            self._child(self.requests, route, "", "rejected").inc()
            return
        answered = result.response.model_alias if result is not None else ""
        outcome = "ok" if result is not None and error is None else "error"
        self._child(self.requests, route, answered, outcome).inc()
        if error is not None:
            code = error.code if isinstance(error, ApiError) else "internal_error"
            self._child(self.failures, route, "", code).inc()
        cost = 0
        for a in attempts:
            model = a.model_alias
            self._child(self.attempts, route, model, a.outcome).inc()
            if a.retries:
                self._child(self.retries, route, model).inc(a.retries)
            if a.error_class:
                self._child(self.failures, route, model, a.error_class).inc()
                if "timeout" in a.error_class:
                    self._child(self.timeouts, route, model).inc()
            if a.outcome == "escalated":
                self._child(self.escalations, route, model).inc()
                if a.escalation_reason and "refusal" in a.escalation_reason:
                    self._child(self.refusals, route, model).inc()
            if a.outcome == "fallback":
                self._child(self.fallbacks, route, model).inc()
            for kind, n in token_kinds(a.usage).items():
                if n:
                    self._child(self.tokens, route, model, kind).inc(n)
            cost += a.cost_nano_usd
        if result is not None:
            if result.response.stop_reason == "refusal":
                self._child(self.refusals, route, answered).inc()
            self._child(self.latency, route, answered).observe(result.latency_ms / 1000.0)
            if result.ttft_ms is not None:
                self._child(self.ttft, route, answered).observe(result.ttft_ms / 1000.0)
        if cost:
            self._child(self.cost, principal.department, principal.project).inc(cost / NANO)

    def record_budgets(self, states: Iterable[BudgetState]) -> None:
        for s in states:
            label = s.budget.label
            self._child(self.budget_used, label).set(s.used_ratio)
            self._child(self.budget_spent, label).set(s.spent_nano / NANO)
            self._child(self.budget_over_soft, label).set(1 if s.over_soft else 0)

    def record_circuits(self, states: dict[str, str]) -> None:
        for breaker, state in states.items():
            self._child(self.circuit, breaker).set(CIRCUIT.get(state, 2))


class _Forward:
    """Collects another registry (the process-local metrics)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry

    def collect(self) -> Iterable[Metric]:
        return self.registry.collect()


class _CacheHitRatio:
    """``loregate_cache_hit_ratio{route}`` derived from the token counters at scrape time."""

    def __init__(self, source: Callable[[], Iterable[Metric]]) -> None:
        self.source = source

    def collect(self) -> Iterable[Metric]:
        read: dict[str, float] = {}
        total: dict[str, float] = {}
        for family in self.source():
            if family.name != "loregate_tokens":
                continue
            for s in family.samples:
                if not s.name.endswith("_total"):
                    continue
                kind, route = s.labels.get("kind", ""), s.labels.get("route", "")
                if kind == "output":
                    continue
                total[route] = total.get(route, 0.0) + s.value
                if kind == "cache_read":
                    read[route] = read.get(route, 0.0) + s.value
        gauge = GaugeMetricFamily(
            "loregate_cache_hit_ratio", "Prompt-cache reads / all input tokens", labels=["route"]
        )
        for route, n in sorted(total.items()):
            gauge.add_metric([route], read.get(route, 0.0) / n if n else 0.0)
        yield gauge


def render(metrics: GovernanceMetrics) -> tuple[bytes, str]:
    """The exposition text of every process (multiprocess mode) or this one."""
    registry = CollectorRegistry(auto_describe=False)
    base: Any
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client.multiprocess import MultiProcessCollector

        base = MultiProcessCollector(None)  # type: ignore[no-untyped-call]
    else:
        base = _Forward(metrics.registry)
    registry.register(base)
    registry.register(_CacheHitRatio(base.collect))
    return generate_latest(registry), CONTENT_TYPE_LATEST
