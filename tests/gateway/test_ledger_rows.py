"""The ledger's rows, built as tuples on the request's path (``ledger_values``): each value
lands in the column its name says, for a request that went through everything a row records."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson

from gateway.hooks import CallContext, RequestFacts
from gateway.ledger.insert_process import pack_rows, unpack_rows
from gateway.ledger.rows import ROW_FIELDS, LedgerRow, ledger_rows, ledger_values, pack
from gateway.types import AttemptRecord, ModelRequest, Usage
from kernel.errors import ProviderError
from kernel.principal import Principal

AT = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)


def rich_facts(*, error: BaseException | None = None) -> RequestFacts:
    """Two attempts (a fallback, then an answer), every figure distinct from the others."""
    failed = AttemptRecord(
        tier=0, model_alias="haiku", model_id="claude-haiku-4-5", provider="anthropic",
        usage=Usage(input_tokens=11), cost_usd=0.0, latency_ms=1.5, ttft_ms=None,
        outcome="fallback", error_class="RateLimited", retries=2, cost_nano_usd=101,
    )  # fmt: skip
    usage = Usage(
        input_tokens=21, output_tokens=22, cache_creation_input_tokens=40,
        cache_creation_5m_input_tokens=23, cache_creation_1h_input_tokens=14,
        cache_read_input_tokens=25,
    )  # fmt: skip
    answered = AttemptRecord(
        tier=1, model_alias="sonnet", model_id="claude-sonnet-4-6", provider="openai",
        usage=usage, cost_usd=0.0, latency_ms=7.25, ttft_ms=3.5, outcome="ok",
        escalation_reason="judge: weak", retries=1, cost_nano_usd=202,
    )  # fmt: skip
    ctx = CallContext(
        request_id="req-9",
        principal=Principal(
            user_id="ana", department="legal", project="alpha", key_id="lg_k1", tag="cc-7"
        ),
        route="asked",
        request=ModelRequest(model="asked", messages=[{"role": "user", "content": "x"}]),
        prompt_version="p3",
        routing_version="r5",
        source="mcp",
    )
    return RequestFacts(
        ctx, AT, "ran", 9.5, True, [failed, answered], error=error,
        ttft_ms=4.75, downgraded_reason="budget: soft limit",
    )  # fmt: skip


def test_each_value_is_in_its_named_column() -> None:
    request, failed, answered = ledger_rows(rich_facts())
    common = {
        "request_id": "req-9", "created_at": AT, "user_id": "ana", "department": "legal",
        "project": "alpha", "key_id": "lg_k1", "source": "mcp", "route": "ran",
        "requested_route": "asked", "prompt_version": "p3", "routing_version": "r5",
        "stream": True, "tag": "cc-7",
    }  # fmt: skip
    assert request == LedgerRow(
        kind="request", step=0, outcome="ok", tier=1, model_alias="sonnet",
        model_id="claude-sonnet-4-6", provider="openai",
        input_tokens=32, output_tokens=22, cache_write_5m_tokens=26, cache_write_1h_tokens=14,
        cache_read_tokens=25, cost_nano_usd=303, latency_ms=9.5, ttft_ms=4.75, retries=3,
        fallbacks=1, escalations=0, error_class=None, escalation_reason="budget: soft limit",
        **common,
    )  # fmt: skip
    assert failed == LedgerRow(
        kind="attempt", step=1, outcome="fallback", tier=0, model_alias="haiku",
        model_id="claude-haiku-4-5", provider="anthropic", input_tokens=11, cost_nano_usd=101,
        latency_ms=1.5, retries=2, fallbacks=1, error_class="RateLimited", **common,
    )  # fmt: skip
    assert answered == LedgerRow(
        kind="attempt", step=2, outcome="ok", tier=1, model_alias="sonnet",
        model_id="claude-sonnet-4-6", provider="openai", input_tokens=21, output_tokens=22,
        cache_write_5m_tokens=26, cache_write_1h_tokens=14, cache_read_tokens=25,
        cost_nano_usd=202, latency_ms=7.25, ttft_ms=3.5, retries=1,
        escalation_reason="judge: weak", **common,
    )  # fmt: skip


def test_a_failed_request_row_says_error_and_why() -> None:
    request = ledger_rows(rich_facts(error=ProviderError("upstream down")))[0]
    assert (request.outcome, request.error_class) == ("error", "provider_error")


def test_packed_rows_are_arrays_in_column_order_and_read_back_the_same() -> None:
    facts = rich_facts()
    rows = ledger_rows(facts)
    packed = pack(ledger_values(facts))
    assert packed == pack_rows(rows)
    arrays = orjson.loads(packed)
    assert all(len(a) == len(ROW_FIELDS) for a in arrays)
    assert arrays[0][ROW_FIELDS.index("created_at")] == "2026-12-06T03:00:00+00:00"
    assert unpack_rows([packed]) == rows


def test_rows_journaled_as_objects_by_earlier_versions_still_read_back() -> None:
    rows = ledger_rows(rich_facts())
    as_objects = orjson.dumps([r.as_dict() for r in rows])
    assert unpack_rows([as_objects]) == rows
