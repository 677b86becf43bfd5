from __future__ import annotations

import json

from kernel.json_bytes import compact_json_bytes


def as_json(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def test_the_bytes_are_compact_utf8_json_as_json_writes_them() -> None:
    value = {"model": "claude", "messages": [{"role": "user", "content": "naïve 日本語"}], "n": 3}
    assert compact_json_bytes(value) == as_json(value)


def test_a_value_orjson_refuses_still_serialises() -> None:
    value = {"max_tokens": 2**70, "tools": [{"name": "t"}]}  # beyond orjson's 64 bits
    assert compact_json_bytes(value) == as_json(value)
    assert json.loads(compact_json_bytes(value)) == value
