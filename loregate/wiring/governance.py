"""Wiring of governance (gateway/governance): keys, hooks, prompts, redaction, metrics.

Other wiring modules call ``authenticator``, ``hooks``, ``prompts`` and ``redactor``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter

from gateway.auth import Authenticate, static_auth
from gateway.hooks import GovernanceHooks, NoGovernance
from gateway.principal import LOCAL_OPERATOR

if TYPE_CHECKING:
    from loregate.container import Container


def authenticator(container: Container) -> Authenticate:
    """Turns a request's API key into a Principal. PLACEHOLDER until governance lands."""
    return static_auth(LOCAL_OPERATOR)


def hooks(container: Container) -> GovernanceHooks:
    """Budgets, rate limits, audit and metrics around each gateway call. PLACEHOLDER."""
    return NoGovernance()


def routers(container: Container) -> list[APIRouter]:
    return []
