"""The SDK surface the Anthropic provider uses beyond typed methods is still there."""

from __future__ import annotations

import anthropic
import pytest

from gateway.providers.anthropic_sdk import check_sdk, request_options


def test_the_pinned_sdk_offers_what_the_provider_uses() -> None:
    check_sdk()  # fails with a message naming what moved when an upgrade changes it
    options = request_options({"anthropic-beta": "x"}, 30.0)
    assert options == {"headers": {"anthropic-beta": "x"}, "max_retries": 0, "timeout": 30.0}


def test_a_moved_sdk_method_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(anthropic.AsyncStream, "raw_events")
    with pytest.raises(RuntimeError, match=r"AsyncStream\.raw_events is gone.*Pin the SDK back"):
        check_sdk()
