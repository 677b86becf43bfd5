"""``system`` messages between the turns: accepted only under the beta Claude Code sends."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from testkit.emulator import EmulatorServer

pytestmark = pytest.mark.wire

BETA = "claude-code-20250219, mid-conversation-tool-changes-2026-07-01"
BODY: dict[str, Any] = {
    "model": "claude-haiku-4-5",
    "max_tokens": 50,
    "messages": [
        {"role": "user", "content": "Say hi"},
        {"role": "system", "content": [{"type": "text", "text": "The tools changed."}]},
    ],
}


def post(emu: EmulatorServer, path: str, beta: str | None) -> httpx.Response:
    headers = {"x-api-key": "k", "anthropic-version": "2023-06-01"}
    if beta is not None:
        headers["anthropic-beta"] = beta
    return httpx.post(emu.base_url + path, json=BODY, headers=headers, timeout=10)


@pytest.mark.parametrize("path", ["/v1/messages", "/v1/messages/count_tokens"])
def test_a_system_message_without_the_beta_is_a_400_naming_the_roles(
    emu: EmulatorServer, path: str
) -> None:
    for beta in (None, "claude-code-20250219"):
        r = post(emu, path, beta)
        assert r.status_code == 400
        assert r.json()["error"]["message"] == (
            "messages.1.role: Input should be 'user' or 'assistant'"
        )


def test_with_the_beta_it_is_answered_and_counted(emu: EmulatorServer) -> None:
    answer = post(emu, "/v1/messages", BETA)
    assert answer.status_code == 200, answer.text
    assert answer.json()["content"][0]["text"] == "Emulated answer from claude-haiku-4-5: Say hi"
    counted = post(emu, "/v1/messages/count_tokens", BETA)
    assert counted.status_code == 200
    assert counted.json()["input_tokens"] == answer.json()["usage"]["input_tokens"]
