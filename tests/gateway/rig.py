"""Gateway test rig: a gateway over scripted providers, with a clock that never waits."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from gateway.config import GatewayConfig
from gateway.hooks import GovernanceHooks, NoGovernance
from gateway.http import VENDOR_ERRORS, mount_gateway
from gateway.ledger import MemoryLedger
from gateway.providers.base import Provider
from gateway.service import Gateway
from kernel.auth import Authenticate, static_auth
from kernel.hot_routes import TELEMETRY_OFF, HotRoutesApp
from kernel.principal import LOCAL_OPERATOR
from kernel.request_context import RequestIdMiddleware
from loregate.errors_http import install_error_handlers
from testkit.clock import ManualClock
from testkit.scripted import ScriptedProvider
from tests.graphs import rig_graph

HAIKU = "claude-haiku-4-5-20251001"
SONNET = "claude-sonnet-4-6"
OPUS = "claude-opus-4-8"
GPT = "gpt-5.5"
LOCAL = "smollm2-135m-instruct-q4_1"


class Rig:
    """A gateway wired to scripted providers: ``rig.anthropic.push(...)``; ``rig.ledger.rows``.

    Built by the app's own builder with overrides: the routes as data, the scripted providers,
    a memory ledger, and ``hooks`` in place of governance (none by default)."""

    def __init__(
        self,
        config: GatewayConfig,
        *,
        openai: bool = True,
        local: bool = True,
        anthropic: bool = True,
        hooks: GovernanceHooks | None = None,
    ) -> None:
        self.clock = ManualClock(follows_real_time=True)
        self.anthropic = ScriptedProvider("anthropic")
        self.openai = ScriptedProvider("openai")
        self.local = ScriptedProvider("local")
        self.ledger = MemoryLedger()
        providers: dict[str, Provider | None] = {
            "anthropic": self.anthropic if anthropic else None,
            "openai": self.openai if openai else None,
            "local": self.local if local else None,
        }
        self.graph = rig_graph(
            providers,
            gateway_config=config,
            clock=self.clock,
            sleep=self.clock.sleep,
            ledger=self.ledger,
            hooks=hooks or NoGovernance(),
        )
        self.catalogue = self.graph.catalogue
        self.gateway = self.graph.gateway


FAST_ROUTE = """
[breaker]
fail_max = 3
reset_timeout_s = 30

[routes.fast]
[[routes.fast.tiers]]
model = "claude-haiku-4-5"
fallbacks = ["gpt-5.5", "local"]
attempt_timeout_s = 0.05
total_timeout_s = 60.0
retry = { max_attempts = 3, initial_backoff_s = 0.5, max_backoff_s = 4, max_retry_after_s = 20 }
escalate_on = ["weak_verdict"]

[[routes.fast.tiers]]
model = "claude-sonnet-4-6"
fallbacks = ["local"]
attempt_timeout_s = 0.05
total_timeout_s = 60.0
retry = { max_attempts = 2, initial_backoff_s = 0.5 }
escalate_on = ["weak_verdict", "refusal"]

[[routes.fast.tiers]]
model = "claude-opus-4-8"
attempt_timeout_s = 0.05
total_timeout_s = 60.0
escalate_on = []
"""


def gateway_app(gw: Gateway, auth: Authenticate | None = None) -> FastAPI:
    """The gateway's router alone, as create_app mounts it (request ids, vendor error shapes),
    with a fixed caller unless ``auth`` is given: governance is tested on its own."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        await gw.aclose()

    app = HotRoutesApp(lifespan=lifespan, telemetry=TELEMETRY_OFF)
    install_error_handlers(app, VENDOR_ERRORS)
    mount_gateway(app, gw, auth or static_auth(LOCAL_OPERATOR))
    app.add_middleware(RequestIdMiddleware)
    return app
