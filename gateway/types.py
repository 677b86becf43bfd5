"""The canonical shapes that flow through the gateway.

The canonical request and response follow the Anthropic Messages API (content blocks, system
blocks with ``cache_control``, tools, usage with cache fields); the OpenAI provider and the
OpenAI-compatible endpoint translate to and from it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

WireFormat = Literal["anthropic", "openai"]
Model = TypeVar("Model", bound=BaseModel)
_set = object.__setattr__


def trusted(
    cls: type[Model],
    values: dict[str, Any],
    private: dict[str, Any] | None = None,
    fields_set: set[str] | None = None,
) -> Model:
    """``cls.model_construct(**values)`` with its private attributes ``private``, for
    ``values`` that hold every field of ``cls``, each already checked to be of its type.

    What pydantic's ``model_construct`` stores (the field values, the fields set, no extra,
    the private attributes), without its walk over each field's aliases and defaults and the
    default factories of the private attributes: Python loops that ran for every relayed
    stream event. ``fields_set``: the fields the source gave (default: all)."""
    m = cls.__new__(cls)
    _set(m, "__dict__", values)
    _set(m, "__pydantic_fields_set__", set(values) if fields_set is None else fields_set)
    _set(m, "__pydantic_extra__", None)
    _set(m, "__pydantic_private__", private)
    return m


@dataclass(frozen=True, slots=True)
class WireBody:
    """A client's request body as it arrived, in a vendor's own format (the pass-through path,
    gateway/providers/passthrough.py): ``raw`` is the bytes, ``body`` the parsed object."""

    format: WireFormat
    raw: bytes
    body: dict[str, Any]


@dataclass(frozen=True, slots=True)
class WireBytes:
    """An upstream's answer (a JSON body or one SSE frame) as bytes in ``format``, to hand to a
    client that speaks that format without serialising it again."""

    format: WireFormat
    raw: bytes


class ModelRequest(BaseModel):
    """One request to a model, before routing. ``model`` names a model alias or a route."""

    model_config = ConfigDict(extra="forbid")

    model: str
    messages: list[dict[str, Any]]
    max_tokens: int = Field(default=1024, gt=0)
    system: str | list[dict[str, Any]] | None = None
    temperature: float | None = None
    top_p: float | None = None
    stop_sequences: list[str] | None = None
    tools: list[dict[str, Any]] | None = None
    tool_choice: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    # Anything else the client sent (passed through untouched to Anthropic upstreams).
    extra_body: dict[str, Any] = Field(default_factory=dict)
    # anthropic-beta and similar headers, passed through untouched.
    extra_headers: dict[str, str] = Field(default_factory=dict)
    # The client's own body when it needs no translation (the pass-through path). Private, so
    # a copy with another model id or max_tokens keeps it (the provider rewrites both), and
    # anything that changes the content drops it (Gateway.admit, after upstream redaction).
    _wire: WireBody | None = PrivateAttr(default=None)

    @property
    def wire(self) -> WireBody | None:
        private = self.__pydantic_private__  # not through pydantic's __getattr__: see _raw_of
        return private.get("_wire") if private else None

    def with_wire(self, wire: WireBody | None) -> ModelRequest:
        _set_private(self, "_wire", wire)
        return self

    def pinned(self, model: str, max_tokens: int) -> ModelRequest:
        """A copy for one model: its id and output limit (``model_copy(update=...)``, made by
        ``trusted``: the copy keeps the wire body, and its fields set gain both names)."""
        private = self.__pydantic_private__
        return trusted(
            ModelRequest,
            {**self.__dict__, "model": model, "max_tokens": max_tokens},
            None if private is None else dict(private),
            self.__pydantic_fields_set__ | {"model", "max_tokens"},
        )


class Usage(BaseModel):
    """Token usage of one call. Cache creation is split by TTL when the upstream says so."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_creation_5m_input_tokens: int = 0
    cache_creation_1h_input_tokens: int = 0
    cache_read_input_tokens: int = 0

    @property
    def total_input_tokens(self) -> int:
        return self.input_tokens + self.cache_creation_input_tokens + self.cache_read_input_tokens

    def __add__(self, other: Usage) -> Usage:
        # Sums of two valid counts: built without validating again (once per request and
        # attempt on the gateway's path).
        return Usage.model_construct(
            **{k: getattr(self, k) + getattr(other, k) for k in _USAGE_FIELDS}
        )

    @staticmethod
    def total(usages: Iterable[Usage]) -> Usage:
        """The sum of ``usages`` (zero for none; the one itself when there is one: a call's
        usage is never changed once its answer is made)."""
        found = list(usages)
        if len(found) == 1:
            return found[0]
        total = Usage()
        for u in found:
            total = total + u
        return total


_USAGE_FIELDS = tuple(Usage.model_fields)


class ModelResponse(BaseModel):
    """A complete answer from one model."""

    id: str
    provider: str
    model_alias: str
    model_id: str
    content: list[dict[str, Any]]
    stop_reason: str | None = None
    stop_sequence: str | None = None
    usage: Usage = Field(default_factory=Usage)
    # How sure a model that says so is of this answer, 0..1 (the extractive answerer); in a
    # stream it rides on ``message_delta`` as ``confidence``.
    confidence: float | None = None
    # The upstream's body as it arrived (pass-through path): returned to a client of the same
    # format as is. Set only by a provider that sent a ``ModelRequest.wire`` body.
    _raw: WireBytes | None = PrivateAttr(default=None)

    @property
    def raw(self) -> WireBytes | None:
        return _raw_of(self)

    def with_raw(self, raw: WireBytes | None) -> ModelResponse:
        _set_private(self, "_raw", raw)
        return self

    @property
    def text(self) -> str:
        return "".join(b.get("text", "") for b in self.content if b.get("type") == "text")


def _set_private(model: BaseModel, name: str, value: Any) -> None:
    """``model.<name> = value`` for a private attribute, into pydantic's store of them directly
    (its ``__setattr__`` finds the handler for the name first: two calls more, per event)."""
    private = model.__pydantic_private__
    if private is None:
        setattr(model, name, value)
    else:
        private[name] = value


def _raw_of(model: BaseModel) -> WireBytes | None:
    """A model's ``_raw``, read from pydantic's store of private attributes directly: through
    the attribute, pydantic's ``__getattr__`` first fails to find it on the class (an
    exception caught inside pydantic) and cost a microsecond, for every stream event."""
    private = model.__pydantic_private__
    return private.get("_raw") if private else None


StreamEventType = Literal[
    "message_start",
    "content_block_start",
    "content_block_delta",
    "content_block_stop",
    "message_delta",
    "message_stop",
    "ping",
    "retract",  # loregate's own: a judged stream's tier was weak (gateway/resilience/escalation)
]


class StreamEvent(BaseModel):
    """One Anthropic-shaped streaming event; ``data`` is the event's JSON body."""

    type: StreamEventType
    data: dict[str, Any]
    # The SSE frame as the upstream sent it (pass-through path), relayed as is.
    _raw: WireBytes | None = PrivateAttr(default=None)

    @property
    def raw(self) -> WireBytes | None:
        return _raw_of(self)

    def with_raw(self, raw: WireBytes | None) -> StreamEvent:
        _set_private(self, "_raw", raw)
        return self

    @classmethod
    def relayed(
        cls, type: StreamEventType, data: dict[str, Any], raw: WireBytes | None
    ) -> StreamEvent:
        """An upstream's event whose type and data the caller checked (``trusted``)."""
        return trusted(cls, {"type": type, "data": data}, {"_raw": raw})


@dataclass(frozen=True)
class Verdict:
    """A judge's opinion of an answer. ``ok=False`` escalates to the next tier."""

    ok: bool
    reason: str = ""


Judge = Callable[[ModelResponse], Verdict | Awaitable[Verdict]]
"""The caller's judge of a response (sync or async)."""


@dataclass
class AttemptRecord:
    """One call to one model: what it cost and how it ended (one ledger row each)."""

    tier: int
    model_alias: str
    model_id: str
    provider: str
    usage: Usage
    cost_usd: float
    latency_ms: float
    ttft_ms: float | None
    outcome: Literal["ok", "error", "escalated", "fallback"]
    error_class: str | None = None
    escalation_reason: str | None = None
    retries: int = 0
    # Exact cost in integer nano-USD (``cost_usd`` is the same figure as a float, for display).
    cost_nano_usd: int = 0


@dataclass
class InvocationResult:
    """What the gateway returns for one request: the answer and every step that led to it."""

    request_id: str
    route: str
    response: ModelResponse
    attempts: list[AttemptRecord] = field(default_factory=list)
    routing_version: str = ""
    prompt_version: str | None = None
    # The judge's verdict on the returned response (None when no judge was given). When every
    # tier answered weakly, ``response`` is the last tier's answer and ``final_verdict.ok`` is
    # False: the caller decides how to degrade.
    final_verdict: Verdict | None = None
    # The route the caller asked for, when governance moved the request elsewhere (soft limit).
    requested_route: str | None = None
    downgraded_reason: str | None = None
    latency_ms: float = 0.0
    ttft_ms: float | None = None

    @property
    def cost_usd(self) -> float:
        return sum(a.cost_usd for a in self.attempts)

    @property
    def cost_nano_usd(self) -> int:
        """The exact cost of every attempt, in integer nano-USD."""
        return sum(a.cost_nano_usd for a in self.attempts)

    @property
    def retries(self) -> int:
        return sum(a.retries for a in self.attempts)

    @property
    def fallbacks(self) -> list[AttemptRecord]:
        return [a for a in self.attempts if a.outcome == "fallback"]

    @property
    def usage(self) -> Usage:
        return Usage.total(a.usage for a in self.attempts)

    @property
    def escalations(self) -> list[AttemptRecord]:
        return [a for a in self.attempts if a.outcome == "escalated"]
