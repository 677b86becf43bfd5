"""A month of synthetic ledger rows: 3 departments, projects, tags, a Haiku-first cascade."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert

from gateway.config import GatewayConfig, load_config
from gateway.ledger.rows import LedgerRow, cache_hit_row
from gateway.ledger.tables import ledger
from gateway.pricing import cost_nano_usd
from gateway.types import Usage
from kernel.principal import Principal

DEPARTMENTS = {"eng": ("search", "infra"), "sales": ("crm",), "legal": ("contracts", "")}
TAGS = ("", "cc-100", "task-review")
CONFIG: GatewayConfig = load_config()


def _usage(rng: random.Random) -> Usage:
    w5, w1 = rng.choice([(0, 0), (0, 0), (4200, 0), (0, 4300)])
    return Usage(
        input_tokens=rng.randint(50, 3000),
        output_tokens=rng.randint(20, 700),
        cache_creation_input_tokens=w5 + w1,
        cache_creation_5m_input_tokens=w5,
        cache_creation_1h_input_tokens=w1,
        cache_read_input_tokens=rng.choice([0, 0, 4096, 5000]),
    )


def _attempt(
    rid: str,
    step: int,
    at: datetime,
    who: dict[str, Any],
    model: str,
    tier: int,
    outcome: str,
    usage: Usage,
) -> LedgerRow:
    spec = CONFIG.find_model(model)
    assert spec is not None
    return LedgerRow(
        kind="attempt",
        request_id=rid,
        step=step,
        created_at=at,
        outcome=outcome,
        model_alias=model,
        model_id=spec.model_id,
        provider=spec.provider,
        tier=tier,
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cache_write_5m_tokens=usage.cache_creation_5m_input_tokens,
        cache_write_1h_tokens=usage.cache_creation_1h_input_tokens,
        cache_read_tokens=usage.cache_read_input_tokens,
        cost_nano_usd=cost_nano_usd(usage, spec),
        **who,
    )


def cache_hit(rid: str, at: datetime, who: dict[str, Any], answered: LedgerRow) -> LedgerRow:
    """A response-cache hit, saving what the answered request cost."""
    return cache_hit_row(
        request_id=rid,
        at=at,
        principal=Principal(
            user_id=who["user_id"],
            department=who["department"],
            project=who["project"],
            tag=who["tag"] or "",
        ),
        source="ask",
        route="default",
        model=answered.model_alias,
        saved_nano_usd=answered.cost_nano_usd,
        latency_ms=3.0,
    )


def request_rows(
    rid: str, at: datetime, who: dict[str, Any], rng: random.Random
) -> list[LedgerRow]:
    """One request: Haiku answers, or escalates to Sonnet (and rarely on to Opus)."""
    attempts: list[LedgerRow] = []
    plan = rng.choices(
        [
            ["claude-haiku-4-5"],
            ["claude-haiku-4-5", "claude-sonnet-4-6"],
            ["claude-haiku-4-5", "claude-sonnet-4-6", "claude-opus-4-8"],
        ],
        weights=[70, 25, 5],
    )[0]
    for tier, model in enumerate(plan):
        last = tier == len(plan) - 1
        attempts.append(
            _attempt(
                rid, tier + 1, at, who, model, tier, "ok" if last else "escalated", _usage(rng)
            )
        )
    final = attempts[-1]
    request = replace(
        final,
        kind="request",
        step=0,
        cost_nano_usd=sum(a.cost_nano_usd for a in attempts),
        escalations=len(attempts) - 1,
    )
    return [request, *attempts]


def month_of_traffic(
    engine: Engine, *, year: int = 2026, month: int = 6, per_day: int = 12, seed: int = 17
) -> list[LedgerRow]:
    """Writes ``per_day`` requests a day for the whole month; returns every row written."""
    rng = random.Random(seed)
    rows: list[LedgerRow] = []
    day = datetime(year, month, 1, tzinfo=UTC)
    n = 0
    while day.month == month:
        for _ in range(per_day):
            dept = rng.choice(sorted(DEPARTMENTS))
            who = {
                "department": dept,
                "project": rng.choice(DEPARTMENTS[dept]),
                "user_id": f"u{rng.randint(1, 9)}",
                "tag": rng.choice(TAGS) or None,
            }
            at = day + timedelta(seconds=rng.randint(0, 86_399))
            n += 1
            request = request_rows(f"req-{year}{month:02d}-{n}", at, who, rng)
            rows += request
            if n % 10 == 0:  # the same question again, served by the response cache
                rows.append(cache_hit(f"hit-{year}{month:02d}-{n}", at, who, request[0]))
        day += timedelta(days=1)
    write(engine, rows)
    return rows


def write(engine: Engine, rows: list[LedgerRow]) -> None:
    with engine.begin() as conn:
        conn.execute(insert(ledger), [r.as_dict() for r in rows])
