"""Rate limits: requests and tokens per minute, per key, department and model.

Rules live in SQL (``loregate limits set``); a rule names a scope (``key``, ``department`` or
``model``) and a subject (a key id, a department, a model alias or route), or ``*`` for "each
subject of this scope without its own rule". Counting uses the ``limits`` library's fixed
window: in-process memory by default, Redis (shared by every replica) when a Redis URL is
configured.

Admission takes one request from each request-per-minute counter and the estimated prompt
tokens from each token-per-minute counter; if any counter is over, what was taken is given back
and ``RateLimited`` carries the seconds until that window resets. After the call, ``charge``
adds the output tokens (and any input the estimate missed) to the token counters.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from limits import RateLimitItem, RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import FixedWindowRateLimiter
from sqlalchemy import Connection, delete, select

from governance.sql_rules import SqlRules
from governance.tables import rate_limits
from kernel.errors import InvalidRequest, NotFound, RateLimited
from kernel.principal import Principal

LimitScope = Literal["key", "department", "model"]
LIMIT_SCOPES: tuple[LimitScope, ...] = ("key", "department", "model")
ANY = "*"


@dataclass(frozen=True)
class RateRule:
    scope: LimitScope
    subject: str
    requests_per_minute: int | None
    tokens_per_minute: int | None

    def as_dict(self) -> dict[str, object]:
        return {
            "scope": self.scope,
            "subject": self.subject,
            "requests_per_minute": self.requests_per_minute,
            "tokens_per_minute": self.tokens_per_minute,
        }


class RateRules(SqlRules[dict[tuple[str, str], RateRule]]):
    """The rules, in SQL, cached for the hot path."""

    def _read(self, conn: Connection) -> dict[tuple[str, str], RateRule]:
        t = rate_limits
        return {
            (r.scope, r.subject): RateRule(
                r.scope, r.subject, r.requests_per_minute, r.tokens_per_minute
            )
            for r in conn.execute(select(t).order_by(t.c.scope, t.c.subject))
        }

    def set(self, scope: str, subject: str, *, rpm: int | None, tpm: int | None) -> RateRule:
        if scope not in LIMIT_SCOPES:
            raise InvalidRequest(
                f"unknown limit scope {scope!r} (one of: {', '.join(LIMIT_SCOPES)})"
            )
        subject = subject.strip()
        if not subject or len(subject) > 128:
            raise InvalidRequest("a rate limit needs a subject of 1-128 characters (or '*')")
        if rpm is None and tpm is None:
            raise InvalidRequest("give --rpm, --tpm or both")
        for what, value in (("requests per minute", rpm), ("tokens per minute", tpm)):
            if value is not None and value <= 0:
                raise InvalidRequest(f"{what} must be a positive integer (got {value})")
        values = {
            "requests_per_minute": rpm,
            "tokens_per_minute": tpm,
            "updated_at": datetime.now(UTC),
        }
        self._upsert(rate_limits, {"scope": scope, "subject": subject}, values)
        return RateRule(scope, subject, rpm, tpm)  # type: ignore[arg-type]

    def remove(self, scope: str, subject: str) -> None:
        t = rate_limits
        with self.engine.begin() as conn:
            gone = conn.execute(
                delete(t).where(t.c.scope == scope, t.c.subject == subject)
            ).rowcount
        if not gone:
            raise NotFound(f"no rate limit for {scope} {subject!r}")
        self.invalidate()

    def matching(self, principal: Principal, model: str) -> list[tuple[RateRule, str]]:
        """(rule, the subject it counts) for each scope that has a rule for this caller."""
        rules = self.all()
        if not rules:
            return []
        subjects: list[tuple[LimitScope, str]] = [("model", model)]
        if principal.key_id:
            subjects.insert(0, ("key", principal.key_id))
        if principal.department:
            subjects.insert(len(subjects) - 1, ("department", principal.department))
        out = []
        for scope, subject in subjects:
            rule = rules.get((scope, subject)) or rules.get((scope, ANY))
            if rule is not None:
                out.append((rule, subject))
        return out


def make_storage(redis_url: str | None) -> Storage:
    """Redis storage (shared by every process) for a ``redis://`` URL, else process memory."""
    if not redis_url:
        return MemoryStorage()
    return RedisStorage(
        "async+" + redis_url, implementation="redispy", key_prefix="loregate-limits"
    )


@dataclass
class RateTicket:
    """What an admission took, so ``charge`` can add the rest after the call."""

    token_counters: list[tuple[RateLimitItem, tuple[str, ...]]] = field(default_factory=list)
    prompt_tokens: int = 0


class RateLimiter:
    def __init__(
        self,
        rules: RateRules,
        storage: Storage,
        *,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.rules = rules
        self.storage = storage
        self.limiter = FixedWindowRateLimiter(storage)
        self._time = wall_clock

    async def admit(self, principal: Principal, model: str, prompt_tokens: int) -> RateTicket:
        ticket = RateTicket(prompt_tokens=prompt_tokens)
        taken: list[tuple[RateLimitItem, tuple[str, ...], int]] = []
        for rule, subject in self.rules.matching(principal, model):
            checks: list[tuple[str, int | None, int]] = [
                ("requests", rule.requests_per_minute, 1),
                ("tokens", rule.tokens_per_minute, prompt_tokens),
            ]
            for kind, amount, cost in checks:
                if amount is None:
                    continue
                item = RateLimitItemPerMinute(amount)
                ids = (kind, rule.scope, subject)
                if kind == "tokens":
                    ticket.token_counters.append((item, ids))
                    if cost > amount:
                        await self._give_back(taken)
                        raise RateLimited(
                            f"this request's ~{cost} prompt tokens exceed the {rule.scope} "
                            f"{subject!r} limit of {amount} tokens per minute",
                            retry_after=60.0,
                            details={"scope": rule.scope, "subject": subject, "kind": kind},
                        )
                    if cost == 0:
                        continue
                ok = await self.limiter.hit(item, *ids, cost=cost)
                taken.append((item, ids, cost))
                if not ok:
                    await self._give_back(taken)
                    retry_after = await self._retry_after(item, ids)
                    raise RateLimited(
                        f"rate limit of {amount} {kind} per minute for {rule.scope} "
                        f"{subject!r} reached; retry in {retry_after:.0f}s",
                        retry_after=retry_after,
                        details={
                            "scope": rule.scope,
                            "subject": subject,
                            "kind": kind,
                            "limit_per_minute": amount,
                        },
                    )
        return ticket

    async def charge(self, ticket: RateTicket, input_tokens: int, output_tokens: int) -> None:
        """Count what the call really used beyond the admitted estimate."""
        extra = output_tokens + max(0, input_tokens - ticket.prompt_tokens)
        if extra <= 0:
            return
        for item, ids in ticket.token_counters:
            await self.limiter.hit(item, *ids, cost=extra)

    async def aclose(self) -> None:
        """Close the Redis connections (or stop the in-memory expiry timer)."""
        if isinstance(self.storage, RedisStorage):
            bridge: Any = self.storage.bridge
            await bridge.get_connection().aclose()
        timer = getattr(self.storage, "timer", None)
        if isinstance(timer, asyncio.Task) and not timer.done():
            timer.cancel()

    async def _give_back(self, taken: list[tuple[RateLimitItem, tuple[str, ...], int]]) -> None:
        for item, ids, cost in taken:
            await self.storage.incr(item.key_for(*ids), item.get_expiry(), amount=-cost)

    async def _retry_after(self, item: RateLimitItem, ids: tuple[str, ...]) -> float:
        stats: Any = await self.limiter.get_window_stats(item, *ids)
        return max(1.0, float(stats.reset_time) - self._time())
