"""One emulator per test module (starting a server costs ~50 ms), reset before every test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gateway.emulator import EmulatorServer, ManualClock


@pytest.fixture(scope="module")
def module_clock() -> ManualClock:
    return ManualClock()


@pytest.fixture(scope="module")
def module_emulator(module_clock: ManualClock) -> Iterator[EmulatorServer]:
    with EmulatorServer(clock=module_clock) as server:
        yield server


@pytest.fixture
def clock(module_clock: ManualClock) -> ManualClock:
    module_clock.set(1_000.0)
    return module_clock


@pytest.fixture
def emu(module_emulator: EmulatorServer, clock: ManualClock) -> EmulatorServer:
    module_emulator.reset()
    return module_emulator
