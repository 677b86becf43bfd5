"""A circuit breaker per provider and model, on the injected clock, with its state visible.

A model that fails ``fail_max`` times in a row is skipped (``CircuitOpen``) for
``reset_timeout_s``; then it is half-open: one trial call decides (success closes the circuit,
failure opens it again) while every other call is still skipped. Client faults (400/413/422),
a busy model's refusal (its queue is full) and cancellations are not the model's failures: they
count as successes. Time is the
gateway's ``Clock``, so tests move it without waiting; a gateway serves from one event loop, so
the state needs no lock.
"""

from __future__ import annotations

from typing import Literal

from gateway.config import BreakerPolicy
from gateway.resilience.trace import is_client_fault
from kernel.clock import Clock
from kernel.errors import CircuitOpen, ProviderBusy, ProviderError

State = Literal["closed", "open", "half-open"]


def counts_as_failure(exc: BaseException) -> bool:
    """A model's own failure; not the caller's fault, and not a model that is merely busy."""
    return (
        isinstance(exc, ProviderError)
        and not isinstance(exc, ProviderBusy)
        and not is_client_fault(exc)
    )


class Circuit:
    """The state of one model's circuit."""

    __slots__ = ("_clock", "_failures", "_opened_at", "_policy", "_state", "_trial")

    def __init__(self, policy: BreakerPolicy, clock: Clock) -> None:
        self._policy = policy
        self._clock = clock
        self._state: State = "closed"
        self._failures = 0
        self._opened_at = 0.0
        self._trial = False  # the half-open trial call is under way

    @property
    def state(self) -> State:
        if self._state == "open" and self._reset_due():
            return "half-open"
        return self._state

    def _reset_due(self) -> bool:
        return self._clock.monotonic() - self._opened_at >= self._policy.reset_timeout_s

    def admit(self) -> bool:
        """May a call go through now? (In half-open, only the one trial call may.)"""
        if self._state == "closed":
            return True
        if self._state == "open":
            if not self._reset_due():
                return False
            self._state = "half-open"
        if self._trial:
            return False
        self._trial = True
        return True

    def record(self, exc: BaseException | None) -> None:
        """The outcome of an admitted call (``None``: it succeeded)."""
        self._trial = False
        if exc is None or not counts_as_failure(exc):
            self._state, self._failures = "closed", 0
            return
        self._failures += 1
        if self._state == "half-open" or self._failures >= self._policy.fail_max:
            self._state, self._opened_at = "open", self._clock.monotonic()


class Breakers:
    """The circuits of one gateway, one per ``provider/alias``, created on first use."""

    def __init__(self, policy: BreakerPolicy, clock: Clock) -> None:
        self.policy = policy
        self.clock = clock
        self._circuits: dict[str, Circuit] = {}

    def get(self, key: str) -> Circuit:
        circuit = self._circuits.get(key)
        if circuit is None:
            circuit = self._circuits[key] = Circuit(self.policy, self.clock)
        return circuit

    def states(self) -> dict[str, str]:
        """``{"anthropic/claude-haiku-4-5": "closed" | "open" | "half-open"}``."""
        return {key: c.state for key, c in sorted(self._circuits.items())}


def circuit_open(provider: str, model: str) -> CircuitOpen:
    return CircuitOpen(
        f"{provider}/{model}: circuit open after repeated failures",
        provider=provider,
        model=model,
    )
