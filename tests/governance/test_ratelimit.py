"""Rate limits: requests and tokens per minute per key, department and model; 429 + retry-after;
one limit shared by two gateway processes through Redis."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine

from gateway.types import ModelRequest
from governance.ratelimit import RateLimiter, RateRules, make_storage
from kernel.errors import InvalidRequest, NotFound, RateLimited
from kernel.principal import Principal
from tests.governance.helpers import ALICE, GovRig

HERE = Path(__file__).resolve().parent
MakeLimiter = Callable[[RateRules], RateLimiter]
REQUEST = ModelRequest(model="default", messages=[{"role": "user", "content": "hello"}])


def test_rules_are_validated(sqlite_engine: Engine) -> None:
    rules = RateRules(sqlite_engine, cache_ttl_s=0)
    with pytest.raises(InvalidRequest, match="scope"):
        rules.set("team", "x", rpm=1, tpm=None)
    with pytest.raises(InvalidRequest, match="--rpm, --tpm"):
        rules.set("key", "x", rpm=None, tpm=None)
    with pytest.raises(InvalidRequest, match="positive"):
        rules.set("key", "x", rpm=0, tpm=None)
    with pytest.raises(NotFound):
        rules.remove("key", "x")
    assert rules.all() == {}


def test_matching_prefers_the_subject_over_the_wildcard(sqlite_engine: Engine) -> None:
    rules = RateRules(sqlite_engine, cache_ttl_s=0)
    rules.set("department", "*", rpm=100, tpm=None)
    rules.set("department", "sales", rpm=5, tpm=None)
    rules.set("model", "default", rpm=None, tpm=1000)
    rules.set("key", ALICE.key_id, rpm=2, tpm=None)
    found = [(r.scope, r.subject, s) for r, s in rules.matching(ALICE, "default")]
    assert found == [
        ("key", ALICE.key_id, ALICE.key_id),
        ("department", "sales", "sales"),
        ("model", "default", "default"),
    ]
    other = Principal(user_id="bob", department="hr")
    assert [(r.subject, s) for r, s in rules.matching(other, "economy")] == [("*", "hr")]


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def storage_url(request: pytest.FixtureRequest) -> str | None:
    if request.param == "memory":
        return None
    url: str = request.getfixturevalue("redis_url")
    return url


@pytest.fixture
async def limiter_for(
    sqlite_engine: Engine, storage_url: str | None
) -> AsyncIterator[Callable[[RateRules], RateLimiter]]:
    made: list[RateLimiter] = []

    def make(rules: RateRules) -> RateLimiter:
        made.append(RateLimiter(rules, make_storage(storage_url)))
        return made[-1]

    yield make
    for limiter in made:
        await limiter.aclose()


async def test_requests_per_minute_with_retry_after(
    sqlite_engine: Engine, limiter_for: MakeLimiter
) -> None:
    rules = RateRules(sqlite_engine, cache_ttl_s=0)
    rules.set("key", ALICE.key_id, rpm=3, tpm=None)
    limiter = limiter_for(rules)
    for _ in range(3):
        await limiter.admit(ALICE, "default", 10)
    with pytest.raises(RateLimited) as caught:
        await limiter.admit(ALICE, "default", 10)
    err = caught.value
    assert err.status == 429 and 1 <= err.retry_after <= 60
    assert err.details == {
        "scope": "key",
        "subject": ALICE.key_id,
        "kind": "requests",
        "limit_per_minute": 3,
    }
    other = Principal(user_id="bob", key_id="lg_0000b0b0", department="sales")
    await limiter.admit(other, "default", 10)  # another key has its own counter


async def test_a_refusal_gives_back_what_it_took(
    sqlite_engine: Engine, limiter_for: MakeLimiter
) -> None:
    """A key hammering past its own limit must not use up its department's allowance."""
    rules = RateRules(sqlite_engine, cache_ttl_s=0)
    rules.set("key", ALICE.key_id, rpm=1, tpm=None)
    rules.set("department", "sales", rpm=3, tpm=None)
    limiter = limiter_for(rules)
    await limiter.admit(ALICE, "default", 1)
    for _ in range(10):
        with pytest.raises(RateLimited, match="key"):
            await limiter.admit(ALICE, "default", 1)
    colleague = Principal(user_id="carol", key_id="lg_0000ca01", department="sales")
    await limiter.admit(colleague, "default", 1)
    await limiter.admit(colleague, "default", 1)
    with pytest.raises(RateLimited, match="department 'sales'"):
        await limiter.admit(colleague, "default", 1)


async def test_tokens_per_minute_count_input_then_output(
    sqlite_engine: Engine, limiter_for: MakeLimiter
) -> None:
    rules = RateRules(sqlite_engine, cache_ttl_s=0)
    rules.set("model", "default", rpm=None, tpm=100)
    limiter = limiter_for(rules)
    with pytest.raises(RateLimited, match="exceed"):
        await limiter.admit(ALICE, "default", 101)  # can never fit
    ticket = await limiter.admit(ALICE, "default", 40)
    await limiter.charge(ticket, input_tokens=45, output_tokens=30)  # 40 + 5 + 30 = 75 used
    await limiter.admit(ALICE, "default", 25)
    with pytest.raises(RateLimited, match="tokens per minute"):
        await limiter.admit(ALICE, "default", 1)
    await limiter.admit(ALICE, "economy", 50)  # another model


async def test_the_gateway_answers_429_before_calling_a_provider(sqlite_engine: Engine) -> None:
    rig = GovRig(sqlite_engine)
    rig.rules.set("department", "sales", rpm=2, tpm=None)
    assert rig.gateway is not None
    for _ in range(2):
        await rig.gateway.invoke(REQUEST, principal=ALICE)
    with pytest.raises(RateLimited):
        await rig.gateway.invoke(REQUEST, principal=ALICE)
    assert len(rig.anthropic.calls) == 2
    rejected = [r for r in rig.ledger.requests() if r.outcome == "rejected"]
    assert len(rejected) == 1 and rejected[0].error_class == "rate_limited"
    sample = rig.metrics.registry.get_sample_value(
        "loregate_rejections_total", {"reason": "rate_limited"}
    )
    assert sample == 1.0
    await rig.aclose()


@pytest.mark.redis
def test_two_gateway_processes_share_one_limit(tmp_path: Path, redis_url: str) -> None:
    from tests.governance.helpers import migrated_engine

    db = f"sqlite:///{tmp_path / 'shared.db'}"
    engine = migrated_engine(db)
    RateRules(engine).set("key", ALICE.key_id, rpm=10, tpm=None)
    engine.dispose()
    go = tmp_path / "go"
    env = {**os.environ, "PYTHONPATH": str(HERE.parent.parent)}
    procs = [
        subprocess.Popen(
            [sys.executable, str(HERE / "worker_proc.py"), db, redis_url, str(go), "8"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(2)
    ]
    try:
        for p in procs:
            assert p.stdout is not None
            line = p.stdout.readline()
            assert line.strip() == "ready", p.stderr.read() if p.stderr else line
        go.touch()
        results = []
        for p in procs:
            out, err = p.communicate(timeout=120)
            assert p.returncode == 0, err
            results.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    assert sum(r["ok"] for r in results) == 10  # 16 asked across two processes, 10 allowed
    assert sum(r["limited"] for r in results) == 6
    assert all(1 <= ra <= 60 for r in results for ra in r["retry_after"])
