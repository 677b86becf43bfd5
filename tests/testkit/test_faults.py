"""The fault queue: scripting rules and clear errors for bad scripts (no server)."""

from __future__ import annotations

import pytest

from gateway.providers.openai import OpenAIProvider
from testkit.emulator import Fault, FaultQueue, ManualClock


def test_faults_are_taken_in_order_by_model_prefix() -> None:
    queue = FaultQueue()
    queue.push(Fault.status(529), model="claude-haiku", times=2)
    queue.push(Fault.reset())
    assert len(queue) == 3
    assert queue.take("claude-sonnet-4-6") == Fault.reset()  # the haiku fault does not match
    assert queue.take("claude-sonnet-4-6") is None
    assert queue.take("claude-haiku-4-5") == Fault.status(529)
    assert queue.take("claude-haiku-4-5") == Fault.status(529)
    assert queue.take("claude-haiku-4-5") is None


def test_bad_fault_scripts_fail_loudly() -> None:
    with pytest.raises(ValueError, match="400-599"):
        Fault.status(200)
    with pytest.raises(ValueError, match="seconds"):
        Fault.slow(-1)
    with pytest.raises(ValueError, match="times"):
        FaultQueue().push(Fault.reset(), times=0)
    with pytest.raises(ValueError, match="go back"):
        ManualClock().advance(-1)
    with pytest.raises(ValueError, match="max_tokens_param"):
        OpenAIProvider(api_key="k", max_tokens_param="n_predict")


def test_default_messages_per_status() -> None:
    assert Fault.status(529).status_message == "Overloaded"
    assert Fault.status(429, retry_after=1.5).retry_after == 1.5
    assert Fault.status(418).status_message == "HTTP 418"
    assert Fault.status(500, message="custom").status_message == "custom"


@pytest.mark.parametrize("fault", [Fault.hang(), Fault.empty()])
def test_the_emulator_refuses_a_fault_it_cannot_play(fault: Fault) -> None:
    from testkit.emulator import FaultQueue

    with pytest.raises(ValueError, match="cannot play") as err:
        FaultQueue().push(fault)
    assert fault.kind in str(err.value) and "Fault.slow" in str(err.value)
