"""One rig (graph, corpus, keys, app) for the console's tests: building it ingests a
corpus, which is the slow part."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.console.rig import ConsoleRig


@pytest.fixture(scope="session")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleRig]:
    built = ConsoleRig(Path(tmp_path_factory.mktemp("console")))
    yield built
    built.close()
