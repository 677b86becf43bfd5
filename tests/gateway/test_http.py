"""The HTTP surface through FastAPI's TestClient, over scripted providers."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from gateway.config import GatewayConfig
from gateway.types import Usage
from testkit.faults import Fault
from testkit.scripted import Reply
from tests.gateway.rig import HAIKU, Rig, gateway_app


@pytest.fixture
def client(rig: Rig) -> Iterator[TestClient]:
    with TestClient(gateway_app(rig.gateway)) as c:
        yield c


MSG = {"model": "default", "max_tokens": 100, "messages": [{"role": "user", "content": "hi"}]}


def sse_events(text: str) -> list[tuple[str, dict[str, object]]]:
    out = []
    for frame in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in frame.split("\n"))
        out.append((lines.get("event", ""), json.loads(lines["data"])))
    return out


def test_messages_json(client: TestClient, rig: Rig) -> None:
    rig.anthropic.push(
        Reply("hello there", Usage(input_tokens=9, output_tokens=3, cache_read_input_tokens=4)),
        model=HAIKU,
    )
    r = client.post("/v1/messages", json=MSG, headers={"x-request-id": "req-http-1"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["type"] == "message" and body["role"] == "assistant"
    assert body["model"] == HAIKU
    assert body["content"] == [{"type": "text", "text": "hello there"}]
    assert body["stop_reason"] == "end_turn"
    assert body["usage"]["input_tokens"] == 9 and body["usage"]["cache_read_input_tokens"] == 4
    assert r.headers["x-request-id"] == "req-http-1" == r.headers["request-id"]
    assert float(r.headers["x-loregate-overhead-ms"]) >= 0
    assert r.headers["x-loregate-model"] == "claude-haiku-4-5"
    assert rig.ledger.requests()[0].request_id == "req-http-1"


def test_messages_pass_tools_cache_control_and_beta_headers_through(
    client: TestClient, rig: Rig
) -> None:
    system = [
        {
            "type": "text",
            "text": "You are terse.",
            "cache_control": {"type": "ephemeral", "ttl": "1h"},
        }
    ]
    tools = [
        {
            "name": "lookup",
            "description": "find a doc",
            "input_schema": {"type": "object", "properties": {"q": {"type": "string"}}},
            "cache_control": {"type": "ephemeral"},
        }
    ]
    messages = [
        {"role": "user", "content": "find the NDA"},
        {
            "role": "assistant",
            "content": [
                {"type": "tool_use", "id": "tu_1", "name": "lookup", "input": {"q": "NDA"}}
            ],
        },
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": "tu_1", "content": "NDA v3"}],
        },
    ]
    body = {
        **MSG,
        "system": system,
        "tools": tools,
        "messages": messages,
        "tool_choice": {"type": "auto"},
        "thinking": {"type": "enabled", "budget_tokens": 1024},
        "cache_control": {"type": "ephemeral"},
        "top_k": 5,
    }
    r = client.post(
        "/v1/messages",
        json=body,
        headers={"anthropic-beta": "interleaved-thinking-2025-05-14,context-1m-2025-08-07"},
    )
    assert r.status_code == 200, r.text
    sent = rig.anthropic.calls_for(HAIKU)[0]
    assert sent.system == system and sent.tools == tools and sent.messages == messages
    assert sent.tool_choice == {"type": "auto"}
    assert sent.extra_body == {
        "thinking": {"type": "enabled", "budget_tokens": 1024},
        "cache_control": {"type": "ephemeral"},
        "top_k": 5,
    }
    assert sent.extra_headers == {
        "anthropic-beta": "interleaved-thinking-2025-05-14,context-1m-2025-08-07"
    }


def test_messages_stream_in_anthropic_event_order(client: TestClient, rig: Rig) -> None:
    rig.anthropic.push(Reply("streamed"), model=HAIKU)
    with client.stream("POST", "/v1/messages", json={**MSG, "stream": True}) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        assert "x-loregate-overhead-ms" in r.headers
        text = r.read().decode()
    events = sse_events(text)
    assert [name for name, _ in events] == [
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    assert all(name == data["type"] for name, data in events)
    assert events[2][1]["delta"] == {"type": "text_delta", "text": "streamed"}


def test_stream_failure_before_content_is_an_http_error(client: TestClient, rig: Rig) -> None:
    rig.anthropic.push(*[Fault.status(529, retry_after=3)] * 3, model=HAIKU)
    r = client.post("/v1/messages", json={**MSG, "model": "claude-haiku-4-5", "stream": True})
    assert r.status_code == 529
    assert r.json()["type"] == "error"
    assert r.json()["error"]["type"] == "overloaded_error"
    assert r.headers["retry-after"] == "3"


def test_stream_failure_after_content_is_an_error_event(client: TestClient, rig: Rig) -> None:
    rig.anthropic.push(Fault.error_after_start(3), model=HAIKU)
    r = client.post("/v1/messages", json={**MSG, "stream": True})
    assert r.status_code == 200
    events = sse_events(r.text)
    assert events[-1][0] == "error"
    assert events[-1][1]["error"]["type"] == "api_error"  # type: ignore[index]
    assert "message_stop" not in [name for name, _ in events]


@pytest.mark.parametrize(
    ("body", "status", "kind", "says"),
    [
        ({**MSG, "model": "claude-2.1"}, 404, "not_found_error", "claude-2.1"),
        ({"model": "default", "max_tokens": 10}, 400, "invalid_request_error", "messages"),
        ({**MSG, "max_tokens": 0}, 400, "invalid_request_error", "max_tokens"),
        ([1, 2], 400, "invalid_request_error", "JSON object"),
    ],
)
def test_bad_requests_get_anthropic_errors(
    client: TestClient, body: object, status: int, kind: str, says: str
) -> None:
    r = client.post("/v1/messages", json=body)
    assert r.status_code == status
    assert r.json()["type"] == "error" and r.json()["error"]["type"] == kind
    assert says in r.json()["error"]["message"]


def test_invalid_json_body(client: TestClient) -> None:
    r = client.post("/v1/messages", content=b"{nope", headers={"content-type": "application/json"})
    assert r.status_code == 400 and "not valid JSON" in r.json()["error"]["message"]


def test_count_tokens(client: TestClient) -> None:
    r = client.post(
        "/v1/messages/count_tokens", json={"model": "claude-haiku-4-5", "messages": MSG["messages"]}
    )
    assert r.status_code == 200 and r.json()["input_tokens"] > 0


def test_chat_completions_json_with_tools(client: TestClient, rig: Rig) -> None:
    rig.anthropic.push(
        Reply(
            content=[
                {"type": "text", "text": "Let me look."},
                {"type": "tool_use", "id": "tu_9", "name": "lookup", "input": {"q": "NDA"}},
            ],
            stop_reason="tool_use",
            usage=Usage(input_tokens=30, output_tokens=8, cache_read_input_tokens=10),
        ),
        model=HAIKU,
    )
    r = client.post(
        "/v1/chat/completions",
        json={
            "model": "default",
            "messages": [
                {"role": "system", "content": "be brief"},
                {"role": "user", "content": "find the NDA"},
            ],
            "tools": [
                {
                    "type": "function",
                    "function": {
                        "name": "lookup",
                        "parameters": {"type": "object", "properties": {"q": {"type": "string"}}},
                    },
                }
            ],
            "tool_choice": "required",
            "max_completion_tokens": 50,
            "stop": "END",
        },
    )
    assert r.status_code == 200, r.text
    choice = r.json()["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] == "Let me look."
    call = choice["message"]["tool_calls"][0]
    assert call["id"] == "tu_9" and json.loads(call["function"]["arguments"]) == {"q": "NDA"}
    assert r.json()["usage"] == {
        "prompt_tokens": 40,
        "completion_tokens": 8,
        "total_tokens": 48,
        "prompt_tokens_details": {"cached_tokens": 10},
    }
    sent = rig.anthropic.calls_for(HAIKU)[0]
    assert sent.system == "be brief" and sent.tool_choice == {"type": "any"}
    assert sent.tools == [
        {
            "name": "lookup",
            "description": "",
            "input_schema": {"type": "object", "properties": {"q": {"type": "string"}}},
        }
    ]
    assert (sent.max_tokens, sent.stop_sequences) == (50, ["END"])


def test_chat_completions_stream_with_usage(client: TestClient, rig: Rig) -> None:
    rig.anthropic.push(Reply("chunky", Usage(input_tokens=5, output_tokens=2)), model=HAIKU)
    r = client.post(
        "/v1/chat/completions",
        json={
            "model": "default",
            "stream": True,
            "stream_options": {"include_usage": True},
            "messages": [{"role": "user", "content": "hi"}],
        },
    )
    assert r.status_code == 200
    frames = [f[len("data: ") :] for f in r.text.strip().split("\n\n")]
    assert frames[-1] == "[DONE]"
    chunks = [json.loads(f) for f in frames[:-1]]
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert (
        "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
        == "chunky"
    )
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["prompt_tokens"] == 5


def test_chat_completions_errors_in_openai_shape(client: TestClient) -> None:
    r = client.post(
        "/v1/chat/completions",
        json={"model": "nope", "messages": [{"role": "user", "content": "hi"}]},
    )
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "unknown_model" and "nope" in r.json()["error"]["message"]
    r = client.post(
        "/v1/chat/completions",
        json={"model": "default", "n": 2, "messages": [{"role": "user", "content": "hi"}]},
    )
    assert r.status_code == 400 and r.json()["error"]["type"] == "invalid_request_error"


def test_models_and_admin_views(client: TestClient, config: GatewayConfig) -> None:
    ids = [m["id"] for m in client.get("/v1/models").json()["data"]]
    assert (
        ids[: len(config.models)] == list(config.models) and "default" in ids and "economy" in ids
    )
    routes = client.get("/v1/gateway/routes").json()
    assert routes["routing_version"] == config.routing_version
    assert routes["routes"]["default"]["tiers"][0]["models"] == [
        "claude-haiku-4-5",
        "gpt-5.5",
        "local",
    ]
    assert (
        client.get("/v1/gateway/breakers").json()["breakers"]["anthropic/claude-haiku-4-5"]
        == "closed"
    )
