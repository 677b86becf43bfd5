"""Models and routes as versioned data: one typed ``GatewayConfig`` read once.

The built-in configuration is ``gateway/defaults.toml``. A file named by ``LOREGATE_CONFIG``
(the wiring passes its path to ``load_config``) is merged over it by name: a model or route of
the same name replaces the built-in one whole, new names are added, and ``inherit_defaults =
false`` drops the built-ins. Top-level tables this module does not own (``budgets``,
``prompts``, ...) are left to their owners and ignored here.

Shape (TOML)::

    default_route = "default"
    offline_route = "offline"   what a route of paid models runs when none of them is available
    [breaker]        fail_max, reset_timeout_s
    [alias_tier]     attempt_timeout_s, total_timeout_s, retry   (a request naming an alias)
    [models.<alias>] provider, model_id, also_known_as, context_window, max_output_tokens,
                     min_cacheable_tokens, prompt_caching, min_confidence, prices_as_of,
                     prices = {input, output, cache_write_5m, cache_write_1h, cache_read}
    [routes.<name>]  description, [[routes.<name>.tiers]] model, fallbacks, attempt_timeout_s,
                     total_timeout_s, retry = {max_attempts, initial_backoff_s, max_backoff_s,
                     multiplier, max_retry_after_s}, escalate_on = ["weak_verdict", "refusal",
                     "max_tokens", "low_confidence"]

A route and a model may share a name (the shipped ``local``): a request naming it runs the
route. Any problem raises ``ConfigError`` naming the key (``routes.default.tiers[0].fallbacks[1]``).
``routing_version`` is the first 12 hex digits of the sha256 of the normalised configuration.
"""

from __future__ import annotations

import tomllib
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from kernel.digest import canonical_json, content_version
from kernel.errors import ConfigError

DEFAULTS_PATH = Path(__file__).with_name("defaults.toml")
OWN_KEYS = ("default_route", "offline_route", "breaker", "alias_tier", "models", "routes")
TOKEN_KINDS = ("input", "output", "cache_write_5m", "cache_write_1h", "cache_read")
EscalationSignal = Literal["weak_verdict", "refusal", "max_tokens", "low_confidence"]


def _to_decimal(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("a price must be a number")
    if isinstance(value, float | int | str):
        try:
            return Decimal(repr(value) if isinstance(value, float) else str(value))
        except InvalidOperation:
            raise ValueError(f"not a number: {value!r}") from None
    return value


Price = Annotated[Decimal, BeforeValidator(_to_decimal)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Prices(_Strict):
    """USD per million tokens of each kind."""

    input: Price
    output: Price
    cache_write_5m: Price
    cache_write_1h: Price
    cache_read: Price

    @field_validator("*")
    @classmethod
    def _exact(cls, v: Decimal) -> Decimal:
        if v < 0:
            raise ValueError("a price cannot be negative")
        if (v * 1000) != (v * 1000).to_integral_value():
            raise ValueError("at most 3 decimals ($0.001 per MTok = 1 nano-USD per token)")
        return v

    def nano_usd_per_token(self, kind: str) -> int:
        """Integer nano-USD per token: ``$/MTok * 1000`` (exact, see the validator)."""
        return int(getattr(self, kind) * 1000)


class ModelSpec(_Strict):
    """One model alias: where it runs, its pinned version, its prices and limits."""

    alias: str
    provider: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    model_id: str = Field(min_length=1)
    also_known_as: tuple[str, ...] = ()
    context_window: int = Field(gt=0)
    max_output_tokens: int = Field(default=4096, gt=0)
    min_cacheable_tokens: int = Field(default=0, ge=0)
    prompt_caching: bool = True
    prices_as_of: date
    prices: Prices
    # For a model that reports how sure it is (the extractive answerer): an answer below this
    # confidence is weak (the tier's ``low_confidence`` signal escalates it).
    min_confidence: float | None = Field(default=None, ge=0.0, le=1.0)

    @property
    def is_free(self) -> bool:
        return not any(self.nano_prices)

    @cached_property
    def nano_prices(self) -> tuple[int, int, int, int, int]:
        """(input, output, cache write 5m, cache write 1h, cache read) in nano-USD per token."""
        p = self.prices
        return (
            p.nano_usd_per_token("input"),
            p.nano_usd_per_token("output"),
            p.nano_usd_per_token("cache_write_5m"),
            p.nano_usd_per_token("cache_write_1h"),
            p.nano_usd_per_token("cache_read"),
        )


class RetryPolicy(_Strict):
    max_attempts: int = Field(default=3, ge=1, le=10)
    initial_backoff_s: float = Field(default=0.5, ge=0)
    max_backoff_s: float = Field(default=8.0, ge=0)
    multiplier: float = Field(default=2.0, ge=1)
    # A retry-after longer than this is not waited for: the tier falls back instead.
    max_retry_after_s: float = Field(default=30.0, ge=0)


class TierDefaults(_Strict):
    attempt_timeout_s: float = Field(default=60.0, gt=0)
    total_timeout_s: float = Field(default=180.0, gt=0)
    retry: RetryPolicy = RetryPolicy()


class TierSpec(TierDefaults):
    """One tier of a route: a model, its fallbacks, and when to escalate past it."""

    model: str
    fallbacks: tuple[str, ...] = ()
    escalate_on: tuple[EscalationSignal, ...] = ("weak_verdict", "refusal")

    @property
    def candidates(self) -> tuple[str, ...]:
        return (self.model, *self.fallbacks)


class RouteSpec(_Strict):
    description: str = ""
    tiers: tuple[TierSpec, ...] = Field(min_length=1)


class BreakerPolicy(_Strict):
    fail_max: int = Field(default=5, ge=1)
    reset_timeout_s: float = Field(default=30.0, gt=0)


class GatewayConfig(_Strict):
    default_route: str = "default"
    # What a route runs when it names paid models and none of them is available (no keys):
    # this route's tiers instead (the shipped one: the extractive answerer, then the local
    # model). Empty: such a route runs whatever free models it names itself.
    offline_route: str = ""
    breaker: BreakerPolicy = BreakerPolicy()
    alias_tier: TierDefaults = TierDefaults()
    models: dict[str, ModelSpec] = Field(min_length=1)
    routes: dict[str, RouteSpec] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _name_models(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("models"), dict):
            models = {}
            for name, spec in data["models"].items():
                models[name] = {"alias": name, **spec} if isinstance(spec, dict) else spec
            data = {**data, "models": models}
        return data

    @model_validator(mode="after")
    def _references(self) -> GatewayConfig:
        problems: list[str] = []
        names: dict[str, str] = {}
        for alias, spec in self.models.items():
            if spec.alias != alias:
                problems.append(f"models.{alias}.alias: must be {alias!r} (the table name)")
            for i, other in enumerate((spec.model_id, *spec.also_known_as)):
                where = f"models.{alias}." + ("model_id" if i == 0 else f"also_known_as[{i - 1}]")
                owner = names.get(other)
                if owner is not None and owner != alias:
                    problems.append(f"{where}: {other!r} already names model {owner!r}")
                names.setdefault(other, alias)
        for route, rspec in self.routes.items():
            for t, tier in enumerate(rspec.tiers):
                where = f"routes.{route}.tiers[{t}]"
                if tier.model not in self.models:
                    problems.append(f"{where}.model: unknown model {tier.model!r}")
                for f, fb in enumerate(tier.fallbacks):
                    if fb not in self.models:
                        problems.append(f"{where}.fallbacks[{f}]: unknown model {fb!r}")
                if len(set(tier.candidates)) != len(tier.candidates):
                    problems.append(f"{where}.fallbacks: a model is listed twice")
                if tier.total_timeout_s < tier.attempt_timeout_s:
                    problems.append(f"{where}.total_timeout_s: shorter than attempt_timeout_s")
        if self.default_route not in self.routes:
            problems.append(f"default_route: unknown route {self.default_route!r}")
        if self.offline_route and self.offline_route not in self.routes:
            problems.append(f"offline_route: unknown route {self.offline_route!r}")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    # Lookups ----------------------------------------------------------------------------------
    @cached_property
    def name_index(self) -> dict[str, ModelSpec]:
        index: dict[str, ModelSpec] = {}
        for spec in self.models.values():
            for name in (spec.model_id, *spec.also_known_as):
                index.setdefault(name, spec)
        index.update(self.models)
        return index

    def find_model(self, name: str) -> ModelSpec | None:
        """The model an alias, a pinned model id or an ``also_known_as`` name designates."""
        return self.name_index.get(name)

    @cached_property
    def routing_version(self) -> str:
        """First 12 hex digits of the sha256 of the normalised configuration."""
        return content_version(
            canonical_json(self.model_dump(mode="json"), default=str, ascii_only=True)
        )


def _loc(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part not in ("function-after[_references(), GatewayConfig]",):
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def parse_config(data: dict[str, Any], *, source: str = "config") -> GatewayConfig:
    """Validate ``data`` (already merged) into a ``GatewayConfig``; ``ConfigError`` if bad."""
    try:
        return GatewayConfig.model_validate({k: v for k, v in data.items() if k in OWN_KEYS})
    except ValidationError as exc:
        problems = [f"{_loc(tuple(e['loc']))}: {e['msg']}" for e in exc.errors()]
        raise ConfigError(
            f"bad gateway config in {source}: " + "; ".join(problems),
            details={"source": source, "problems": problems},
        ) from None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}", details={"source": str(path)}) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"{path} is not valid TOML: {exc}", details={"source": str(path)}
        ) from None


def merge_over_defaults(defaults: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """The override's models and routes replace the defaults' of the same name."""
    if not override.pop("inherit_defaults", True):
        return override
    merged = dict(defaults)
    for key, value in override.items():
        if key in ("models", "routes", "breaker", "alias_tier") and isinstance(value, dict):
            base = merged.get(key)
            merged[key] = {**(base if isinstance(base, dict) else {}), **value}
        else:
            merged[key] = value
    return merged


def load_config(path: Path | str | None = None) -> GatewayConfig:
    """The built-in defaults, with the file at ``path`` (LOREGATE_CONFIG) merged over them."""
    defaults = _read_toml(DEFAULTS_PATH)
    if path is None:
        return parse_config(defaults, source=str(DEFAULTS_PATH))
    override = _read_toml(Path(path))
    inherit = override.get("inherit_defaults", True)
    if not isinstance(inherit, bool):
        raise ConfigError(f"inherit_defaults: must be true or false in {path}")
    return parse_config(merge_over_defaults(defaults, override), source=str(path))
