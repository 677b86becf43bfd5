"""The prompt-token estimate budgets and rate limits reserve with: what it counts, on small
requests worked by hand and on a coding agent's large one against the plain definition."""

from __future__ import annotations

import json
import random
from enum import StrEnum
from typing import Any

from gateway.types import ModelRequest
from governance.estimate import IMAGE_BYTES, _text_bytes, estimate_prompt_tokens


def definition(value: Any) -> int:
    """The estimate's definition, written as plainly as possible: UTF-8 bytes of every string
    except under ``type`` and ``cache_control``, a base64 ``data`` as one image, numbers as
    their JSON."""
    if isinstance(value, str):
        return len(value.encode("utf-8"))
    if isinstance(value, dict):
        total = 0
        for k, v in value.items():
            if k in ("cache_control", "type"):
                continue
            if k == "data" and isinstance(v, str) and value.get("type") == "base64":
                total += IMAGE_BYTES
                continue
            total += definition(v)
        return total
    if isinstance(value, list):
        return sum(definition(v) for v in value)
    if value is None or isinstance(value, bool):
        return 0
    return len(json.dumps(value))


def request(**fields: Any) -> ModelRequest:
    return ModelRequest.model_validate({"model": "m", **fields})


def test_texts_count_as_utf8_bytes_and_markers_images_and_numbers_as_stated() -> None:
    msgs = [{"role": "user", "content": "héllo"}]  # "user" 4 + "héllo" 6 = 10 bytes
    assert estimate_prompt_tokens(request(messages=msgs)) == 4 + 4  # ceil(10 / 3) + 4 a message
    image = {
        "role": "user",
        "content": [
            {"type": "text", "text": "ab", "cache_control": {"type": "ephemeral"}},
            {"type": "image", "source": {"type": "base64", "media_type": "x", "data": "A" * 99}},
            {"type": "tool_use", "id": "t", "name": "n", "input": {"n": 12345, "ok": True}},
        ],
    }
    # "user" 4, "ab" 2, "x" 1, an image, "t" 1, "n" 1, 12345 as "12345" 5, True nothing
    assert _text_bytes([image]) == 14 + IMAGE_BYTES
    tools = [{"name": "grep", "input_schema": {"type": "object"}}]
    with_tools = estimate_prompt_tokens(request(messages=msgs, tools=tools))
    compact = len(json.dumps(tools, separators=(",", ":")))
    assert with_tools == -(-(10 + compact) // 3) + 4


def test_a_coding_agents_large_request_counts_as_the_definition_says() -> None:
    rng = random.Random(7)

    def block(depth: int) -> Any:
        kind = rng.random()
        if depth > 3 or kind < 0.35:
            return rng.choice(["plain text " * rng.randint(1, 40), "日本語のテキスト", "naïve", ""])
        if kind < 0.5:
            return rng.choice([rng.randint(-(10**6), 10**6), 3.25, None, True, False])
        if kind < 0.75:
            return [block(depth + 1) for _ in range(rng.randint(0, 6))]
        out = {f"k{i}": block(depth + 1) for i in range(rng.randint(0, 5))}
        if rng.random() < 0.3:
            out["type"] = rng.choice(["text", "base64", "tool_result"])
        if rng.random() < 0.2:
            out["data"] = "QUJD" * 50
        if rng.random() < 0.2:
            out["cache_control"] = {"type": "ephemeral", "ttl": "5m"}
        return out

    messages = [
        {"role": rng.choice(["user", "assistant"]), "content": [block(0) for _ in range(4)]}
        for _ in range(200)
    ]
    assert _text_bytes(messages) == definition(messages) > 10_000


def test_string_subclasses_and_container_subclasses_count_too() -> None:
    class Role(StrEnum):
        USER = "user"

    class Blocks(list[Any]):
        pass

    value = {"role": Role.USER, "content": Blocks([{"text": "abc"}])}
    assert _text_bytes(value) == definition(value) == 7
