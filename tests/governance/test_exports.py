"""Billing and call exports: every grouping adds up to the ledger, to the nano-dollar."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import Engine

from gateway.ledger import LedgerWriter
from gateway.types import ModelRequest, ModelResponse, Usage, Verdict
from governance import exports
from kernel.errors import InvalidRequest
from kernel.principal import Principal
from testkit.scripted import Reply
from tests.governance.helpers import ALICE, GovRig

BOB = Principal(user_id="bob", department="legal", project="contracts", key_id="lg_0000b0b0")
LO, HI = datetime(2026, 6, 1, tzinfo=UTC), datetime(2026, 7, 1, tzinfo=UTC)
HAIKU_IN, HAIKU_OUT, SONNET_IN, SONNET_OUT = 1_000, 5_000, 3_000, 15_000  # nano-USD per token


def _ask(text: str) -> ModelRequest:
    return ModelRequest(model="default", messages=[{"role": "user", "content": text}])


def _weak_once() -> object:
    seen: list[int] = []

    def judge(response: ModelResponse) -> Verdict:
        seen.append(1)
        return Verdict(ok=len(seen) > 1, reason="no citation")

    return judge


@pytest.fixture
async def filled(engine: Engine) -> AsyncIterator[Engine]:
    """Three requests by two callers, one escalated from Haiku to Sonnet, written to the ledger."""
    writer = LedgerWriter(engine, max_delay_s=0.01)
    rig = GovRig(engine, ledger=writer)
    assert rig.gateway is not None
    rig.anthropic.push(
        Reply(usage=Usage(input_tokens=100, output_tokens=10)),
        Reply(usage=Usage(input_tokens=200, output_tokens=20, cache_read_input_tokens=50)),
        Reply(usage=Usage(input_tokens=300, output_tokens=30)),
        Reply(usage=Usage(input_tokens=300, output_tokens=40)),
    )
    await rig.gateway.invoke(_ask("a"), principal=ALICE)
    await rig.gateway.invoke(_ask("b"), principal=ALICE)
    await rig.gateway.invoke(_ask("c"), principal=BOB, judge=_weak_once())  # type: ignore[arg-type]
    assert writer.flush(timeout=30)
    writer.close()
    await rig.aclose()
    yield engine


def _expected_total() -> int:
    return (
        (100 * HAIKU_IN + 10 * HAIKU_OUT)
        + (200 * HAIKU_IN + 20 * HAIKU_OUT + 50 * 100)  # cache read: $0.1/MTok = 100 nano
        + (300 * HAIKU_IN + 30 * HAIKU_OUT)  # the weak Haiku answer, escalated
        + (300 * SONNET_IN + 40 * SONNET_OUT)
    )


@pytest.mark.parametrize("group_by", ["department", "project", "user", "model", "route"])
def test_every_grouping_reconciles_with_the_ledger(filled: Engine, group_by: str) -> None:
    lines = exports.billing(filled, LO, HI, group_by)
    total = sum(line.cost_nano_usd for line in lines)
    assert total == exports.ledger_total_nano(filled, LO, HI) == _expected_total()
    by = {line.group: line for line in lines}
    if group_by == "department":
        assert by["sales"].requests == 2 and by["legal"].requests == 1
        assert by["legal"].cost_nano_usd == 300 * HAIKU_IN + 30 * HAIKU_OUT + 300 * SONNET_IN + (
            40 * SONNET_OUT
        )
    if group_by == "model":  # attempts: the escalated request paid both models
        assert by["claude-haiku-4-5"].requests == 3 and by["claude-sonnet-4-6"].requests == 1
        assert by["claude-sonnet-4-6"].cost_nano_usd == 300 * SONNET_IN + 40 * SONNET_OUT
        assert by["claude-haiku-4-5"].tokens["cache_read_tokens"] == 50


def test_csv_and_jsonl_carry_exact_figures(filled: Engine) -> None:
    lines = exports.billing(filled, LO, HI, "user")
    rows = [line.as_dict("user") for line in lines]
    text = "".join(exports.render(rows, "csv", exports.billing_columns("user")))
    parsed = list(csv.DictReader(io.StringIO(text)))
    assert [r["user"] for r in parsed] == ["alice", "bob"]
    assert sum(int(r["cost_nano_usd"]) for r in parsed) == _expected_total()
    alice = parsed[0]
    assert Decimal(alice["cost_usd"]) * 10**9 == int(alice["cost_nano_usd"])
    jsonl = "".join(exports.render(rows, "jsonl", []))
    assert [json.loads(x)["requests"] for x in jsonl.splitlines()] == [2, 1]
    with pytest.raises(InvalidRequest, match="format"):
        list(exports.render(rows, "xml", []))


def test_calls_export_is_the_invocation_log(filled: Engine) -> None:
    requests = list(exports.calls(filled, LO, HI))
    assert len(requests) == 3 and {r["kind"] for r in requests} == {"request"}
    assert sum(r["cost_nano_usd"] for r in requests) == _expected_total()
    with_attempts = list(exports.calls(filled, LO, HI, attempts=True))
    assert len(with_attempts) == 3 + 4
    bobs = list(exports.calls(filled, LO, HI, filters={"user": "bob"}))
    assert [r["escalations"] for r in bobs] == [1]
    assert bobs[0]["created_at"].startswith("2026-06-01T12:00:00")
    assert list(exports.calls(filled, HI, datetime(2026, 8, 1, tzinfo=UTC))) == []


def test_summary_and_ranges(filled: Engine) -> None:
    s = exports.summary(filled, LO, HI, {"department": "sales"})
    assert s["requests"] == 2 and s["outcomes"] == {"ok": 2}
    assert s["tokens"]["input_tokens"] == 300
    lo, hi = exports.period("2026-06-01", "2026-06-30")
    assert (lo, hi) == (LO, HI)  # a date as the end includes that day
    with pytest.raises(InvalidRequest, match="bad date"):
        exports.period("June 1st", None)
    with pytest.raises(InvalidRequest, match="empty range"):
        exports.period("2026-06-02", "2026-06-01")
    with pytest.raises(InvalidRequest, match="group-by"):
        exports.billing(filled, LO, HI, "colour")
