"""Governance fixtures: migrated databases (SQLite file, PostgreSQL), counters on every backend,
and a gateway over scripted providers with the real governance hooks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from governance.budget_redis import RedisBudgetCounter
from governance.budget_sql import SqlBudgetCounter
from governance.budgets import BudgetBook, BudgetCounter
from governance.redaction import PiiRedactor
from tests.governance.helpers import GovRig, migrated_engine


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = migrated_engine(f"sqlite:///{tmp_path / 'gov.db'}")
    yield engine
    engine.dispose()


@pytest.fixture
def pg_engine(postgres_url: str) -> Iterator[Engine]:
    engine = migrated_engine(postgres_url)
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest) -> Engine:
    """The governance tables on SQLite (embedded default) and on PostgreSQL."""
    name = "sqlite_engine" if request.param == "sqlite" else "pg_engine"
    built: Engine = request.getfixturevalue(name)
    return built


@pytest.fixture(
    params=[
        "sql-sqlite",
        pytest.param("sql-postgres", marks=pytest.mark.postgres),
        pytest.param("redis", marks=pytest.mark.redis),
    ]
)
def counter_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def book_and_counter(
    request: pytest.FixtureRequest, counter_kind: str
) -> Iterator[tuple[BudgetBook, BudgetCounter]]:
    """Budget definitions in SQL and a counter on each backend."""
    if counter_kind == "sql-postgres":
        engine: Engine = request.getfixturevalue("pg_engine")
    else:
        engine = request.getfixturevalue("sqlite_engine")
    if counter_kind == "redis":
        import redis

        client = redis.Redis.from_url(request.getfixturevalue("redis_url"))
        yield BudgetBook(engine, cache_ttl_s=0), RedisBudgetCounter(client)
        client.close()
    else:
        yield BudgetBook(engine, cache_ttl_s=0), SqlBudgetCounter(engine)


@pytest.fixture(scope="session")
def redactor() -> PiiRedactor:
    """One presidio engine for the whole session (its import takes seconds)."""
    return PiiRedactor()


@pytest.fixture
def gov_rig(engine: Engine) -> Iterator[GovRig]:
    rig = GovRig(engine)
    yield rig
    rig.close()
