"""What the answer service depends on: the gateway's shape and its own settings."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

from gateway.ledger.rows import LedgerRow
from gateway.route_catalogue import RouteCatalogue
from gateway.types import InvocationResult, Judge, ModelRequest, StreamEvent
from kernel.principal import Principal
from retrieval.cache_plan import PaddingPolicy


class AnswerStream(Protocol):
    """What ``Gateway.stream`` returns: events, then ``result`` once exhausted."""

    result: InvocationResult | None

    def __aiter__(self) -> AsyncIterator[StreamEvent]: ...


class AnswerGateway(Protocol):
    """The part of ``gateway.service.Gateway`` the answer service calls."""

    catalogue: RouteCatalogue

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
    ) -> AnswerStream: ...

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
    ) -> InvocationResult: ...

    async def count_tokens(self, request: ModelRequest, route: str | None = None) -> int: ...


@runtime_checkable
class LedgerRows(Protocol):
    """Where the rows of answers served without a model call go (``LedgerWriter.write``)."""

    def write(self, rows: Sequence[LedgerRow]) -> None: ...


@dataclass(frozen=True)
class AnswerConfig:
    candidates: int = 20  # fused hits handed to the context builder
    budgets: dict[str, int] = field(
        default_factory=lambda: {"local": 900}
    )  # source tokens by the route's first model; others use the context config's budget
    max_output_tokens: int = 600
    max_output_by_model: dict[str, int] = field(
        default_factory=lambda: {"local": 300}
    )  # the small local model rambles: cap it harder
    standing_knowledge: str = ""
    padding: PaddingPolicy = "auto"
    requests_per_window: float = 20.0
    cache_ttl: Literal["5m", "1h"] = "5m"
