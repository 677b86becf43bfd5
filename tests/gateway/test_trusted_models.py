"""``gateway.types.trusted``: checked values made into models as ``model_construct`` makes them,
for the shapes built on the relay's path (stream events, usage, their sums)."""

from __future__ import annotations

import copy
import pickle

import pytest

from gateway.types import ModelResponse, StreamEvent, Usage, WireBytes, trusted

COUNTS = {
    "input_tokens": 3,
    "output_tokens": 1,
    "cache_creation_input_tokens": 4,
    "cache_creation_5m_input_tokens": 4,
    "cache_creation_1h_input_tokens": 0,
    "cache_read_input_tokens": 2,
}


def test_a_relayed_event_is_the_event_model_construct_makes() -> None:
    raw = WireBytes("anthropic", b'event: ping\ndata: {"type":"ping"}\n\n')
    data = {"type": "ping"}
    got = StreamEvent.relayed("ping", data, raw)
    made = StreamEvent.model_construct(type="ping", data=data).with_raw(raw)
    assert got == made and got.model_fields_set == made.model_fields_set == {"type", "data"}
    assert got.raw is raw and got.type == "ping" and got.data is data
    assert got.model_dump() == {"type": "ping", "data": data}
    again = pickle.loads(pickle.dumps(got))
    assert again == got and again.raw == raw
    assert copy.copy(got).raw is raw
    assert got.with_raw(None).raw is None  # its private attribute is its own to change


def test_usage_and_its_sums_are_the_usage_validation_makes() -> None:
    usage = trusted(Usage, dict(COUNTS))
    assert usage == Usage(**COUNTS) and usage.model_fields_set == set(COUNTS)
    assert usage.total_input_tokens == 9
    total = Usage.total([usage, Usage(input_tokens=1)])
    assert total == Usage(**{**COUNTS, "input_tokens": 4})
    assert total.model_dump() == {**COUNTS, "input_tokens": 4}


def test_only_the_fields_the_source_gave_count_as_set() -> None:
    fields = {
        "id": "msg_1",
        "provider": "anthropic",
        "model_alias": "haiku",
        "model_id": "claude-haiku-4-5",
        "content": [{"type": "text", "text": "pong"}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": Usage(),
    }
    given = set(fields)
    got = trusted(ModelResponse, {**fields, "confidence": None}, {"_raw": None}, given)
    assert got == ModelResponse(**fields) and got.model_fields_set == given
    assert got.model_dump(exclude_unset=True) == ModelResponse(**fields).model_dump(
        exclude_unset=True
    )


@pytest.mark.parametrize("model", [StreamEvent, Usage, ModelResponse])
def test_the_models_built_this_way_have_no_hidden_state(model: type) -> None:
    """``trusted`` stores what ``model_construct`` stores: a model that grows a validator
    run after construction, extra fields or another private attribute needs more here."""
    assert not model.__pydantic_decorators__.model_validators
    assert model.model_config.get("extra") in (None, "ignore", "forbid")
    assert set(model.__private_attributes__) <= {"_raw"}


def test_a_pinned_request_is_the_copy_model_copy_makes() -> None:
    from gateway.types import ModelRequest, WireBody

    body = {"model": "fast", "max_tokens": 64, "messages": [{"role": "user", "content": "hi"}]}
    request = ModelRequest.model_validate({**body, "extra_headers": {"anthropic-beta": "x"}})
    wire = WireBody("anthropic", b"{}", body)
    request.with_wire(wire)
    got = request.pinned("claude-haiku-4-5-20251001", 32)
    made = request.model_copy(update={"model": "claude-haiku-4-5-20251001", "max_tokens": 32})
    assert got == made and got.model_fields_set == made.model_fields_set
    assert got.wire is wire and got.extra_headers == {"anthropic-beta": "x"}
    assert (request.model, request.max_tokens) == ("fast", 64)  # the original is untouched
    got.with_wire(None)
    assert got.wire is None and request.wire is wire  # each keeps its own private attributes
