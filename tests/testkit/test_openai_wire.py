"""The official openai SDK (sync and async, JSON and streaming) against the emulator."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx2
import openai
import pytest

from testkit.clock import ManualClock
from testkit.emulator import EmulatorServer
from testkit.emulator.openai_cache import chat_tokens
from testkit.emulator.tokens import count_text
from testkit.faults import Fault

pytestmark = pytest.mark.wire

QUESTION = (
    "[1] The warranty lasts two years from delivery.\n"
    "[2] Returns are accepted within 30 days.\n\n"
    "Question: Within how many days are returns accepted?"
)
ANSWER = "Returns are accepted within 30 days. [2]"
MESSAGES = [{"role": "user", "content": QUESTION}]


@pytest.fixture
def client(emu: EmulatorServer) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=emu.base_url + "/v1", api_key="k", max_retries=0) as c:
        yield c


def test_json_completion_shape_usage_and_headers(
    emu: EmulatorServer, client: openai.OpenAI
) -> None:
    raw = client.chat.completions.with_raw_response.create(model="gpt-5.5", messages=MESSAGES)  # type: ignore[arg-type]
    completion = raw.parse()
    assert completion.object == "chat.completion"
    choice = completion.choices[0]
    assert choice.message.role == "assistant"
    assert choice.message.content == ANSWER
    assert choice.finish_reason == "stop"
    assert completion.usage is not None
    prompt = len(chat_tokens({"messages": MESSAGES}))
    assert completion.usage.prompt_tokens == prompt
    assert completion.usage.completion_tokens == count_text(ANSWER)
    assert completion.usage.total_tokens == prompt + count_text(ANSWER)
    assert completion.usage.prompt_tokens_details.cached_tokens == 0  # type: ignore[union-attr]
    assert raw.headers["x-request-id"].startswith("req_")
    assert raw.headers["x-ratelimit-remaining-requests"] == "9999"


def test_stream_with_include_usage(client: openai.OpenAI) -> None:
    chunks = list(
        client.chat.completions.create(
            model="gpt-5.5",
            messages=MESSAGES,
            stream=True,  # type: ignore[arg-type]
            stream_options={"include_usage": True},
        )
    )
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == ANSWER
    finish = [
        c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason
    ]
    assert finish == ["stop"]
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == count_text(ANSWER)
    assert all(c.usage is None for c in chunks[:-1])


def test_stream_without_include_usage_has_no_usage_chunk(client: openai.OpenAI) -> None:
    chunks = list(client.chat.completions.create(model="gpt-5.5", messages=MESSAGES, stream=True))  # type: ignore[arg-type]
    assert all(c.choices for c in chunks)


async def test_async_client(emu: EmulatorServer) -> None:
    async with openai.AsyncOpenAI(
        base_url=emu.base_url + "/v1", api_key="k", max_retries=0
    ) as client:
        completion = await client.chat.completions.create(model="gpt-5.5", messages=MESSAGES)  # type: ignore[arg-type]
        assert completion.choices[0].message.content == ANSWER
        stream = await client.chat.completions.create(
            model="gpt-5.5",
            messages=MESSAGES,
            stream=True,  # type: ignore[arg-type]
            stream_options={"include_usage": True},
        )
        text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
        assert text == ANSWER


def test_tool_calls_json_and_stream(client: openai.OpenAI) -> None:
    tools: Any = [
        {
            "type": "function",
            "function": {
                "name": "lookup",
                "parameters": {
                    "type": "object",
                    "required": ["q"],
                    "properties": {"q": {"type": "string"}},
                },
            },
        }
    ]
    completion = client.chat.completions.create(
        model="gpt-5.5", messages=MESSAGES, tools=tools, tool_choice="required"
    )  # type: ignore[arg-type]
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    call = choice.message.tool_calls[0]  # type: ignore[index]
    assert call.function.name == "lookup" and call.function.arguments == '{"q": "emulated"}'  # type: ignore[union-attr]
    chunks = list(
        client.chat.completions.create(
            model="gpt-5.5", messages=MESSAGES, tools=tools, tool_choice="required", stream=True
        )
    )  # type: ignore[arg-type]
    args = "".join(
        tc.function.arguments or ""
        for c in chunks
        if c.choices
        for tc in c.choices[0].delta.tool_calls or []
        if tc.function
    )
    assert args == '{"q": "emulated"}'


def test_max_tokens_and_stop(client: openai.OpenAI) -> None:
    cut = client.chat.completions.create(
        model="gpt-5.5",
        messages=MESSAGES,  # type: ignore[arg-type]
        max_completion_tokens=2,
    )
    assert cut.choices[0].finish_reason == "length"
    assert cut.choices[0].message.content == "Returns are"
    stopped = client.chat.completions.create(model="gpt-5.5", messages=MESSAGES, stop=["30"])  # type: ignore[arg-type]
    assert stopped.choices[0].message.content == "Returns are accepted within "


def test_automatic_prefix_caching(client: openai.OpenAI, clock: ManualClock) -> None:
    system = {"role": "system", "content": " ".join(f"rule{i}" for i in range(2000))}
    first = client.chat.completions.create(model="gpt-5.5", messages=[system, *MESSAGES])  # type: ignore[list-item]
    assert first.usage.prompt_tokens_details.cached_tokens == 0  # type: ignore[union-attr]
    again = client.chat.completions.create(
        model="gpt-5.5", messages=[system, {"role": "user", "content": "other"}]
    )  # type: ignore[list-item]
    assert again.usage.prompt_tokens_details.cached_tokens == 1920  # type: ignore[union-attr]
    clock.advance(600)
    late = client.chat.completions.create(model="gpt-5.5", messages=[system, *MESSAGES])  # type: ignore[list-item]
    assert late.usage.prompt_tokens_details.cached_tokens == 0  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("status", "error_class", "error_type"),
    [
        (429, openai.RateLimitError, "requests"),
        (500, openai.InternalServerError, "server_error"),
        (503, openai.InternalServerError, "server_error"),
        (400, openai.BadRequestError, "invalid_request_error"),
    ],
)
def test_status_faults(
    emu: EmulatorServer,
    client: openai.OpenAI,
    status: int,
    error_class: type[Exception],
    error_type: str,
) -> None:
    emu.faults.push(Fault.status(status, retry_after=3), model="gpt")
    with pytest.raises(error_class) as info:
        client.chat.completions.create(model="gpt-5.5", messages=MESSAGES)  # type: ignore[arg-type]
    err: Any = info.value
    assert err.status_code == status
    assert err.body["type"] == error_type
    assert err.response.headers["retry-after"] == "3"


def test_reset_slow_and_error_mid_stream(emu: EmulatorServer, client: openai.OpenAI) -> None:
    emu.faults.push(Fault.reset())
    with pytest.raises(openai.APIConnectionError):
        client.chat.completions.create(model="gpt-5.5", messages=MESSAGES)  # type: ignore[arg-type]
    emu.faults.push(Fault.slow(2.0))
    with pytest.raises(openai.APITimeoutError):
        client.with_options(timeout=0.2).chat.completions.create(model="gpt-5.5", messages=MESSAGES)  # type: ignore[arg-type]
    emu.faults.push(Fault.error_after_start(message="boom"))
    got: list[str] = []
    with pytest.raises(openai.APIError, match="boom"):
        for chunk in client.chat.completions.create(
            model="gpt-5.5", messages=MESSAGES, stream=True
        ):  # type: ignore[arg-type]
            got.append(chunk.choices[0].delta.content or "")
    assert len(got) == 2  # the role chunk and one piece of text, then the error


def test_models_list_and_bad_requests(emu: EmulatorServer, client: openai.OpenAI) -> None:
    assert "gpt-5.5" in [m.id for m in client.models.list().data]
    with pytest.raises(openai.BadRequestError, match="messages"):
        client.chat.completions.create(model="gpt-5.5", messages=[])
    with httpx2.Client(base_url=emu.base_url) as http:
        r = http.post("/v1/chat/completions", json={"model": "x", "messages": MESSAGES})
        assert r.status_code == 401
        assert r.json()["error"]["type"] == "invalid_request_error"
