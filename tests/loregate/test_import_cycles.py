"""The gate's import-cycle check: cycles through function-level imports and through package
``__init__`` modules are found, TYPE_CHECKING imports and re-exporting packages are not
cycles, the allow-list only shrinks, and our packages have no cycle."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
Writer = Callable[[dict[str, str]], None]  # writes files (relative path -> text) on sys.path


@pytest.fixture(scope="module")
def checker() -> ModuleType:
    spec = importlib.util.spec_from_file_location("cycles", ROOT / "scripts/check_import_cycles.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Writer:
    monkeypatch.syspath_prepend(str(tmp_path))

    def write(files: dict[str, str]) -> None:
        for name, text in files.items():
            path = tmp_path / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)

    return write


def test_a_cycle_through_a_function_level_import_is_found(
    checker: ModuleType, write: Writer
) -> None:
    write(
        {
            "late/__init__.py": "",
            "late/a.py": "from late import b\n",
            "late/b.py": "def later():\n    from late import a\n    return a\n",
            "late/c.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import late.a\n",
        }
    )
    passed, report = checker.check(["late"], allowed=())
    assert not passed
    assert report.splitlines() == [
        "import cycle between 2 modules: late.a, late.b",
        "  late.a -> late.b",
        "  late.b -> late.a",
    ]


def test_a_cycle_through_a_package_init_is_found(checker: ModuleType, write: Writer) -> None:
    # store.py imports index.search, which runs index/__init__, which imports index.build,
    # which imports store: no statement names the package, Python still runs its __init__.
    write(
        {
            "app/__init__.py": "",
            "app/store.py": "from app.index.search import find\n",
            "app/index/__init__.py": "from app.index.build import build\n",
            "app/index/search.py": "def find():\n    return 1\n",
            "app/index/build.py": "from app import store\ndef build():\n    return store\n",
        }
    )
    passed, report = checker.check(["app"], allowed=())
    assert not passed
    assert report.splitlines()[0] == (
        "import cycle between 3 modules: app.index, app.index.build, app.store"
    )
    assert "app.store -> app.index (its __init__)" in report


def test_a_package_that_re_exports_its_own_modules_is_no_cycle(
    checker: ModuleType, write: Writer
) -> None:
    write(
        {
            "lib/__init__.py": "from lib.core import run\n",
            "lib/core.py": "from lib.util import helper\ndef run():\n    return helper()\n",
            "lib/util.py": "def helper():\n    return 1\n",
        }
    )
    passed, report = checker.check(["lib"], allowed=())
    assert passed
    assert report == "no import cycle between the 3 modules of lib"


def test_the_allow_list_tolerates_its_cycles_and_must_shrink(
    checker: ModuleType, write: Writer
) -> None:
    write(
        {
            "pair/__init__.py": "",
            "pair/a.py": "import pair.b\n",
            "pair/b.py": "import pair.a\n",
        }
    )
    cycle = frozenset({"pair.a", "pair.b"})
    passed, report = checker.check(["pair"], allowed=[cycle])
    assert passed
    assert report.splitlines()[0] == "allowed import cycle between 2 modules: pair.a, pair.b"
    assert report.splitlines()[-1].startswith("no import cycle outside ALLOWED_CYCLES")

    gone = frozenset({"pair.a", "pair.c"})
    passed, report = checker.check(["pair"], allowed=[cycle, gone])
    assert not passed
    assert "ALLOWED_CYCLES lists a cycle that is gone (remove it): pair.a, pair.c" in report


def test_the_packages_have_no_import_cycle(checker: ModuleType) -> None:
    assert checker.ALLOWED_CYCLES == ()
    out = subprocess.run(
        [sys.executable, "scripts/check_import_cycles.py"], cwd=ROOT, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stdout
    assert out.stdout.startswith("no import cycle between the")
