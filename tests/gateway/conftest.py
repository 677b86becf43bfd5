"""Gateway test fixtures (the rig itself is in rig.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from gateway.config import GatewayConfig, load_config
from tests.gateway.rig import FAST_ROUTE, Rig


@pytest.fixture
def config() -> GatewayConfig:
    return load_config()


@pytest.fixture
def rig(config: GatewayConfig) -> Rig:
    return Rig(config)


@pytest.fixture
def write_config(tmp_path: Path) -> Callable[[str], Path]:
    def write(text: str) -> Path:
        path = tmp_path / "loregate.toml"
        path.write_text(text)
        return path

    return write


@pytest.fixture
def fast(write_config: Callable[[str], Path]) -> Rig:
    """A rig whose route ``fast`` has 50 ms attempt timeouts (hangs end quickly)."""
    return Rig(load_config(write_config(FAST_ROUTE)))
