"""The official SDKs -> loregate (uvicorn on 127.0.0.1) -> the wire emulator, and the fault matrix.

Every test runs on both paths of an Anthropic-format request: ``passthrough`` (the client's
body forwarded as bytes, the answer relayed as bytes) and ``sdk`` (built through the SDK).
The gateway's router is served alone (governance has its own tests; test_gw_shutdown drives
the whole app with a real key). Retry waits are injected (the ``sleeps`` list records them);
timeouts and connection resets are real, on loopback.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import anthropic
import httpx
import openai
import pytest

from gateway.hooks import NoGovernance
from gateway.ledger import MemoryLedger
from gateway.service import Gateway
from loregate.graph import Loregate
from loregate.overrides import Overrides
from testkit.clock import ManualClock
from testkit.emulator import EmulatorServer
from testkit.faults import Fault
from tests.gateway.rig import gateway_app
from tests.gateway.servers import ServedApp
from tests.graphs import rig_settings

pytestmark = pytest.mark.wire

WIRE_CONFIG = """
[routes.default]
description = "wire tests: short timeouts, no local model"
[[routes.default.tiers]]
model = "claude-haiku-4-5"
fallbacks = ["gpt-5.5"]
attempt_timeout_s = 0.6
total_timeout_s = 20
retry = { max_attempts = 2, initial_backoff_s = 0.25, max_retry_after_s = 5 }
escalate_on = ["weak_verdict"]
[[routes.default.tiers]]
model = "claude-sonnet-4-6"
attempt_timeout_s = 0.6
total_timeout_s = 20
escalate_on = []
"""


@dataclass
class Wire:
    emu: EmulatorServer
    url: str
    gateway: Gateway
    ledger: MemoryLedger
    sleeps: list[float]
    passthrough: bool
    clients: list[anthropic.Anthropic | openai.OpenAI] = field(default_factory=list)

    def anthropic(self) -> anthropic.Anthropic:
        client = anthropic.Anthropic(api_key="any-key", base_url=self.url, max_retries=0)
        self.clients.append(client)
        return client

    def openai(self) -> openai.OpenAI:
        client = openai.OpenAI(api_key="any-key", base_url=self.url + "/v1", max_retries=0)
        self.clients.append(client)
        return client

    def close(self) -> None:
        for client in self.clients:
            client.close()


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorServer]:
    with EmulatorServer() as emu:
        yield emu


@pytest.fixture(params=[True, False], ids=["passthrough", "sdk"])
def wire(
    emulator: EmulatorServer, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Wire]:
    emulator.reset()
    (tmp_path / "wire.toml").write_text(WIRE_CONFIG)
    clock = ManualClock()  # retry waits return at once, recorded in clock.sleeps
    ledger = MemoryLedger()
    settings = rig_settings(  # the providers exactly as the app builds them, on the emulator
        anthropic_api_key="test",
        anthropic_base_url=emulator.base_url,
        openai_api_key="test",
        openai_base_url=emulator.base_url + "/v1",
        config=tmp_path / "wire.toml",
        passthrough=request.param,
    )
    overrides = Overrides(
        providers={"local": None, "extractive": None},
        ledger=ledger,
        sleep=clock.sleep,
        hooks=NoGovernance(),
    )
    gw = Loregate(settings, overrides).gateway
    with ServedApp(gateway_app(gw)) as served:
        wire = Wire(emulator, served.url, gw, ledger, clock.sleeps, request.param)
        yield wire
        wire.close()


def test_anthropic_sdk_json_and_stream(wire: Wire) -> None:
    client = wire.anthropic()
    msg = client.messages.create(
        model="default", max_tokens=64, messages=[{"role": "user", "content": "Say hi"}]
    )
    assert msg.content[0].type == "text" and msg.content[0].text
    assert msg.model.startswith("claude-haiku-4-5")
    assert msg.usage.input_tokens > 0 and msg.usage.output_tokens > 0

    with client.messages.stream(
        model="default", max_tokens=64, messages=[{"role": "user", "content": "Say hi"}]
    ) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text and final.content[0].text == text  # type: ignore[union-attr]
    assert final.usage.output_tokens > 0
    rows = wire.ledger.requests()
    assert [r.stream for r in rows] == [False, True] and all(r.outcome == "ok" for r in rows)


def test_tools_beta_headers_and_cache_control_reach_the_upstream_untouched(wire: Wire) -> None:
    client = wire.anthropic()
    long_doc = "The liability cap is 2x annual fees. " * 900  # > Haiku's 4,096-token minimum
    system = [{"type": "text", "text": long_doc, "cache_control": {"type": "ephemeral"}}]
    tools = [
        {
            "name": "lookup",
            "description": "Find a document",
            "input_schema": {"type": "object", "properties": {"q": {"type": "string"}}},
        }
    ]
    kwargs = dict(
        model="claude-haiku-4-5",
        max_tokens=64,
        system=system,
        tools=tools,
        messages=[{"role": "user", "content": "What is the cap?"}],
        extra_headers={"anthropic-beta": "context-1m-2025-08-07"},
    )
    first = client.messages.create(**kwargs)  # type: ignore[call-overload]
    second = client.messages.create(**kwargs)  # type: ignore[call-overload]
    assert (
        first.usage.cache_creation_input_tokens and first.usage.cache_creation_input_tokens > 4096
    )
    assert second.usage.cache_read_input_tokens == first.usage.cache_creation_input_tokens
    upstream = [r for r in wire.emu.requests if r.path == "/v1/messages"][-1]
    assert upstream.headers.get("anthropic-beta") == "context-1m-2025-08-07"
    assert upstream.json is not None
    assert upstream.json["system"] == system and upstream.json["tools"] == tools
    rows = wire.ledger.requests()
    assert rows[0].cache_write_5m_tokens == first.usage.cache_creation_input_tokens
    assert rows[1].cache_read_tokens == second.usage.cache_read_input_tokens
    assert rows[1].cost_nano_usd < rows[0].cost_nano_usd  # cache reads are cheap


def test_openai_sdk_json_and_stream(wire: Wire) -> None:
    client = wire.openai()
    done = client.chat.completions.create(
        model="default", messages=[{"role": "user", "content": "Say hi"}], max_tokens=32
    )
    assert done.choices[0].message.content and done.choices[0].finish_reason == "stop"
    assert done.usage is not None and done.usage.prompt_tokens > 0
    chunks = list(
        client.chat.completions.create(
            model="gpt-5.5",
            messages=[{"role": "user", "content": "Say hi"}],
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0
    assert [r.model_alias for r in wire.ledger.requests()] == ["claude-haiku-4-5", "gpt-5.5"]


def test_models_list_through_both_sdks(wire: Wire) -> None:
    names = [m.id for m in wire.anthropic().models.list()]
    assert "claude-haiku-4-5" in names and "default" in names
    assert "gpt-5.5" in [m.id for m in wire.openai().models.list()]


# The fault matrix ---------------------------------------------------------------------------
FAULTS = {
    "429+retry-after": (Fault.status(429, retry_after=2), 1),
    "529": (Fault.status(529), 1),
    "500": (Fault.status(500), 1),
    "slow (timeout)": (Fault.slow(1.5), 1),
    "connection reset": (Fault.reset(), 1),
    "error after 200": (Fault.error_after_start(), 1),
}


@pytest.mark.parametrize("name", list(FAULTS))
@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_each_fault_is_retried_or_falls_back_never_an_empty_200(
    wire: Wire, name: str, stream: bool
) -> None:
    fault, _ = FAULTS[name]
    wire.emu.faults.push(fault, model="claude-haiku")
    client = wire.anthropic()
    if name == "error after 200" and stream:
        # The error comes after the first content event: the client gets it, not a fake answer.
        with (
            pytest.raises(anthropic.APIError) as err,
            client.messages.stream(
                model="default", max_tokens=64, messages=[{"role": "user", "content": "hi"}]
            ) as s,
        ):
            "".join(s.text_stream)
        assert "Overloaded" in str(err.value) or "overloaded" in str(err.value)
        assert wire.ledger.requests()[0].outcome == "error"
        return
    if stream:
        with client.messages.stream(
            model="default", max_tokens=64, messages=[{"role": "user", "content": "hi"}]
        ) as s:
            text = "".join(s.text_stream)
    else:
        text = (
            client.messages.create(
                model="default", max_tokens=64, messages=[{"role": "user", "content": "hi"}]
            )
            .content[0]
            .text
        )  # type: ignore[union-attr]
    assert text  # an answer, not an empty 200
    row = wire.ledger.requests()[0]
    assert row.outcome == "ok" and row.retries == 1  # the one fault was retried away
    if name == "429+retry-after":
        assert wire.sleeps == [2.0]


def test_a_fault_that_persists_falls_back_to_another_provider(wire: Wire) -> None:
    wire.emu.faults.push(Fault.status(529), model="claude-haiku", times=2)
    msg = wire.anthropic().messages.create(
        model="default", max_tokens=64, messages=[{"role": "user", "content": "hi"}]
    )
    assert msg.model == "gpt-5.5" and msg.content[0].text  # type: ignore[union-attr]
    request, haiku, gpt = wire.ledger.rows
    assert (haiku.outcome, haiku.error_class, haiku.retries) == (
        "fallback",
        "upstream_status_529",
        1,
    )
    assert (gpt.outcome, request.fallbacks) == ("ok", 1)


def test_when_everything_fails_the_client_gets_a_clear_error(wire: Wire) -> None:
    wire.emu.faults.push(Fault.status(529), times=10)
    with pytest.raises(anthropic.APIStatusError) as err:
        wire.anthropic().messages.create(
            model="default", max_tokens=64, messages=[{"role": "user", "content": "hi"}]
        )
    assert err.value.status_code == 503
    assert "every model failed" in str(err.value)
    with pytest.raises(openai.APIStatusError) as oerr:
        wire.openai().chat.completions.create(
            model="claude-haiku-4-5", messages=[{"role": "user", "content": "hi"}]
        )
    assert oerr.value.status_code == 529


def test_which_path_carries_the_client_body(wire: Wire) -> None:
    """Pass-through: the client's own body (an unmodelled field, its key order) with only the
    model id rewritten, none of the SDK's headers; the SDK path rebuilds it."""
    import httpx

    body = {
        "messages": [{"role": "user", "content": "Say hi"}],
        "model": "default",
        "max_tokens": 32,
        "x_unmodelled": {"kept": True},
    }
    headers = {"x-api-key": "k", "anthropic-version": "2023-06-01", "anthropic-beta": "b-1"}
    r = httpx.post(wire.url + "/v1/messages", json=body, headers=headers, timeout=10)
    assert r.status_code == 200 and r.json()["content"][0]["text"]
    upstream = [q for q in wire.emu.requests if q.path == "/v1/messages"][-1]
    assert upstream.json is not None
    assert upstream.json["model"].startswith("claude-haiku-4-5")
    assert upstream.json["x_unmodelled"] == {"kept": True}
    assert upstream.headers.get("anthropic-beta") == "b-1"
    assert upstream.headers.get("x-api-key") != "k"  # never the caller's key
    if wire.passthrough:
        assert list(upstream.json) == ["messages", "model", "max_tokens", "x_unmodelled"]
        assert "x-stainless-lang" not in upstream.headers
    else:
        assert "x-stainless-lang" in upstream.headers
    assert wire.ledger.requests()[0].input_tokens > 0


def test_an_openai_client_of_an_openai_model(wire: Wire) -> None:
    """OpenAI format in and out: on the pass-through path the client's own body goes upstream
    (an unmodelled field kept), the usage chunk reaches the client only when it asked for it,
    and the ledger has the usage either way; a 529 is retried, an error after 200 is an error."""
    client = wire.openai()
    done = client.chat.completions.create(
        model="gpt-5.5",
        messages=[{"role": "user", "content": "Say hi"}],
        max_tokens=32,
        extra_body={"x_unmodelled": 1},
    )
    assert done.choices[0].message.content and done.usage and done.usage.completion_tokens > 0
    upstream = [q for q in wire.emu.requests if q.path.endswith("/chat/completions")][-1]
    assert upstream.json is not None and upstream.json["model"] == "gpt-5.5"
    if wire.passthrough:
        assert upstream.json["x_unmodelled"] == 1 and upstream.json["max_tokens"] == 32
    for include_usage in (False, True):
        options = {"include_usage": True} if include_usage else None
        chunks = list(
            client.chat.completions.create(
                model="gpt-5.5",
                messages=[{"role": "user", "content": "Say hi"}],
                stream=True,
                **({"stream_options": options} if options else {}),  # type: ignore[arg-type]
            )
        )
        assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        assert (chunks[-1].usage is not None) == include_usage
    assert all(r.output_tokens > 0 and r.outcome == "ok" for r in wire.ledger.requests())

    wire.emu.faults.push(Fault.status(529), model="gpt")
    again = client.chat.completions.create(
        model="gpt-5.5", messages=[{"role": "user", "content": "hi"}]
    )
    assert again.choices[0].message.content and wire.ledger.requests()[-1].retries == 1
    wire.emu.faults.push(Fault.error_after_start(), model="gpt")
    with pytest.raises(openai.APIError):
        list(
            client.chat.completions.create(
                model="gpt-5.5", messages=[{"role": "user", "content": "hi"}], stream=True
            )
        )
    assert wire.ledger.requests()[-1].outcome == "error"


def test_a_client_that_hangs_up_mid_stream_ends_the_model_call(wire: Wire) -> None:
    """The stream stops when its client goes: the model call is closed and the ledger says
    cancelled, long before the answer would have ended."""
    wire.emu.set_reply("claude-haiku", " ".join(f"w{i}" for i in range(300)))
    wire.emu.state.delta_interval_s = 0.02  # the whole answer: about two seconds
    try:
        body = {
            "model": "default",
            "max_tokens": 1024,
            "stream": True,
            "messages": [{"role": "user", "content": "hi"}],
        }
        started = time.monotonic()
        with (
            httpx.Client(base_url=wire.url, timeout=10) as http,
            http.stream("POST", "/v1/messages", json=body, headers={"x-api-key": "k"}) as r,
        ):
            assert r.status_code == 200
            for line in r.iter_lines():
                if line.startswith("event: content_block_delta"):
                    break  # hang up after the first delta
        while not wire.ledger.requests() and time.monotonic() - started < 5:
            time.sleep(0.01)
        (row,) = wire.ledger.requests()
        assert (row.outcome, row.error_class) == ("error", "cancelled")
        assert time.monotonic() - started < 1.5
    finally:
        wire.emu.state.delta_interval_s = 0.0
