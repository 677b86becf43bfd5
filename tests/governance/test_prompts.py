"""The prompt registry: id@version by content hash, one active version, activate and roll back."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from sqlalchemy import Engine

from gateway.types import ModelRequest
from governance.prompts import PromptRegistry
from kernel.errors import InvalidRequest, NotFound
from testkit.clock import ManualClock
from tests.governance.helpers import ALICE, GovRig


def _v(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


@pytest.fixture
def dirs(tmp_path: Path) -> tuple[Path, Path]:
    packaged, home = tmp_path / "packaged", tmp_path / "home"
    packaged.mkdir()
    (packaged / "answer.md").write_text("Answer from the sources.\n")
    (packaged / "README.md").write_text("not a prompt")
    (packaged / "answer").mkdir()
    (packaged / "answer" / "terse.md").write_text("Answer in one sentence.\n")
    return packaged, home


def test_versions_are_content_hashes_and_the_file_is_active(
    engine: Engine, dirs: tuple[Path, Path]
) -> None:
    reg = PromptRegistry(engine, dirs, cache_ttl_s=0)
    active = reg.active("answer")
    assert active.version == _v("Answer from the sources.\n")
    assert active.ref == f"answer@{active.version}"
    [info] = reg.list_prompts()
    assert info.prompt_id == "answer" and not info.pinned
    assert set(info.versions) == {active.version, _v("Answer in one sentence.\n")}
    with pytest.raises(NotFound):
        reg.active("README")
    with pytest.raises(NotFound, match="no prompt 'nope'"):
        reg.active("nope")


def test_the_operator_directory_overrides_the_packaged_file(
    sqlite_engine: Engine, dirs: tuple[Path, Path]
) -> None:
    _, home = dirs
    home.mkdir()
    (home / "answer.md").write_text("Our own answer prompt.\n")
    reg = PromptRegistry(sqlite_engine, dirs, cache_ttl_s=0)
    assert reg.active("answer").text == "Our own answer prompt.\n"


def test_activate_rollback_and_old_versions_survive_file_changes(
    engine: Engine, dirs: tuple[Path, Path]
) -> None:
    packaged, _ = dirs
    reg = PromptRegistry(engine, dirs, cache_ttl_s=0)
    v1 = reg.active("answer").version
    v2 = _v("Answer in one sentence.\n")
    assert reg.activate(f"answer@{v2[:6]}", by="ops").version == v2  # a unique prefix works
    assert reg.active("answer").version == v2
    # The file changes: the pinned version stays active, the new one is registered.
    (packaged / "answer.md").write_text("Answer from the sources, citing them.\n")
    v3 = _v("Answer from the sources, citing them.\n")
    assert reg.active("answer").version == v2
    assert v3 in reg.list_prompts()[0].versions
    reg.activate(f"answer@{v3}")
    assert reg.rollback("answer").version == v2
    assert reg.rollback("answer").version == v3  # rolling back a rollback goes forward again
    assert reg.get("answer", v1).text == "Answer from the sources.\n"  # gone from disk, kept
    assert [h["action"] for h in reg.history("answer")] == [
        "activate",
        "activate",
        "rollback",
        "rollback",
    ]
    diff = reg.diff(f"answer@{v1}", f"answer@{v3}")
    assert "-Answer from the sources." in diff and "+Answer from the sources, citing them." in diff


def test_bad_references_are_clear_errors(sqlite_engine: Engine, dirs: tuple[Path, Path]) -> None:
    reg = PromptRegistry(sqlite_engine, dirs, cache_ttl_s=0)
    with pytest.raises(InvalidRequest, match="name a version"):
        reg.activate("answer")
    with pytest.raises(InvalidRequest, match="hex"):
        reg.activate("answer@xyz%")
    with pytest.raises(NotFound, match="no version 'abcdef'"):
        reg.activate("answer@abcdef")
    with pytest.raises(InvalidRequest, match="no activation"):
        reg.rollback("answer")
    assert reg.history("answer") == []


def test_activation_is_cached_briefly(sqlite_engine: Engine, dirs: tuple[Path, Path]) -> None:
    clock = ManualClock()
    reader = PromptRegistry(sqlite_engine, dirs, cache_ttl_s=2, monotonic=clock.monotonic)
    writer = PromptRegistry(sqlite_engine, dirs)
    first = reader.active("answer").version
    writer.activate(f"answer@{_v('Answer in one sentence.' + chr(10))}")
    assert reader.active("answer").version == first
    clock.advance(3)
    assert reader.active("answer").version != first


async def test_the_version_is_written_on_every_ledger_row(
    sqlite_engine: Engine, dirs: tuple[Path, Path]
) -> None:
    reg = PromptRegistry(sqlite_engine, dirs)
    pv = reg.active("answer")
    rig = GovRig(sqlite_engine)
    assert rig.gateway is not None
    request = ModelRequest(
        model="default", system=pv.text, messages=[{"role": "user", "content": "q"}]
    )
    result = await rig.gateway.invoke(request, principal=ALICE, prompt_version=pv.ref)
    assert result.prompt_version == pv.ref
    assert {r.prompt_version for r in rig.ledger.rows} == {pv.ref}
    await rig.aclose()
