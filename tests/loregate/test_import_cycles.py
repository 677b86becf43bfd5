"""The gate's import-cycle check sees cycles made by imports inside functions, and main has none."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _checker() -> ModuleType:
    spec = importlib.util.spec_from_file_location("cycles", ROOT / "scripts/check_import_cycles.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_cycle_through_a_function_level_import_is_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pkg = tmp_path / "cyclepkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from cyclepkg import b\n")
    (pkg / "b.py").write_text("def late():\n    from cyclepkg import a\n    return a\n")
    (pkg / "c.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import cyclepkg.a\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    graph = grimp.build_graph("cyclepkg", exclude_type_checking_imports=True)
    assert _checker().strongly_connected(graph) == [["cyclepkg.a", "cyclepkg.b"]]


def test_the_packages_have_no_import_cycle() -> None:
    out = subprocess.run(
        [sys.executable, "scripts/check_import_cycles.py"], cwd=ROOT, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stdout
    assert out.stdout.startswith("no import cycle between the")
