"""A wire emulator of the Anthropic Messages API and the OpenAI chat API, for tests and demos.

    from testkit.clock import ManualClock
    from testkit.emulator import EmulatorServer
    from testkit.faults import Fault

    with EmulatorServer(clock=ManualClock()) as emu:
        emu.faults.push(Fault.status(429, retry_after=2))
        emu.set_reply("claude-haiku", "The sources do not contain this.")
        ...  # point an SDK or a provider at emu.base_url
        emu.requests  # what it received

See docs/providers.md for its rules (token counting, prompt caching, default answers).
"""

from testkit.emulator.answers import NOT_FOUND_ANSWER, default_answer, last_user_text
from testkit.emulator.faults import FaultQueue
from testkit.emulator.prompt_cache import count_request, min_cacheable
from testkit.emulator.server import EmulatorApp, EmulatorServer
from testkit.emulator.state import RecordedRequest
from testkit.emulator.tokens import count_text

__all__ = [
    "NOT_FOUND_ANSWER",
    "EmulatorApp",
    "EmulatorServer",
    "FaultQueue",
    "RecordedRequest",
    "count_request",
    "count_text",
    "default_answer",
    "last_user_text",
    "min_cacheable",
]
