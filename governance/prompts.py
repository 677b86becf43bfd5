"""The prompt registry: template files identified as ``id@version``, one active version each.

Templates are files in the registry's directories (by default the packaged
``retrieval/prompts/`` then ``$LOREGATE_HOME/prompts``; a later directory wins for the same id):

    <dir>/<id>.md (or .txt, .j2)          the current template of prompt <id>
    <dir>/<id>/<variant>.md               other candidate versions of prompt <id>

A version is the first 12 hex digits of the sha256 of the file's bytes. Every version the
registry has seen is kept in SQL, so a version can still be activated (or rolled back to)
after its file changed. The active version of an id is the one last activated; without an
activation it is the current file. Activations are an append-only history: ``rollback``
re-activates the version that was active before the last change. The version is what the
gateway writes on every ledger row.
"""

from __future__ import annotations

import difflib
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError

from governance.prompt_types import PromptVersion
from governance.tables import prompt_activations as acts
from governance.tables import prompt_versions as versions
from kernel.digest import content_version
from kernel.errors import InvalidRequest, NotFound
from kernel.ttl_memo import TtlMemo

SUFFIXES = (".md", ".txt", ".j2")
IGNORED = {"README", "readme", "CHANGELOG"}
_HEX = re.compile(r"[0-9a-f]{1,12}")


@dataclass(frozen=True)
class FoundTemplate:
    prompt_id: str
    version: str
    text: str
    path: Path
    current: bool  # <id>.<ext> (True) or <id>/<variant>.<ext> (False)


@dataclass(frozen=True)
class PromptInfo:
    prompt_id: str
    active: str
    current_file: str | None
    versions: tuple[str, ...]
    pinned: bool  # the active version comes from an activation (not just the current file)

    def as_dict(self) -> dict[str, object]:
        return {
            "prompt_id": self.prompt_id,
            "active": f"{self.prompt_id}@{self.active}",
            "current_file_version": self.current_file,
            "versions": list(self.versions),
            "pinned": self.pinned,
        }


def _parse_ref(ref: str) -> tuple[str, str | None]:
    prompt_id, _, version = ref.partition("@")
    return prompt_id.strip(), (version.strip() or None)


class PromptRegistry:
    """Implements ``governance.prompt_types.PromptSource``."""

    def __init__(
        self,
        engine: Engine,
        dirs: Sequence[Path],
        *,
        cache_ttl_s: float = 2.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        self.dirs = [Path(d) for d in dirs]
        self.cache_ttl_s = cache_ttl_s
        self._cache: TtlMemo[str, PromptVersion] = TtlMemo(
            maxsize=256, ttl_s=cache_ttl_s, timer=monotonic
        )
        self._sync_lock = threading.Lock()  # one sync at a time in this process

    # Files ------------------------------------------------------------------------------------
    def scan(self) -> list[FoundTemplate]:
        found: dict[tuple[str, str], FoundTemplate] = {}
        for base in self.dirs:
            if not base.is_dir():
                continue
            for path in sorted(base.iterdir()):
                if path.is_file() and path.suffix in SUFFIXES and path.stem not in IGNORED:
                    t = self._load(path.stem, path, current=True)
                    # a later directory's current file replaces an earlier one's
                    for k in [k for k, v in found.items() if k[0] == t.prompt_id and v.current]:
                        found[k] = FoundTemplate(k[0], k[1], found[k].text, found[k].path, False)
                    found[(t.prompt_id, t.version)] = t
                elif path.is_dir():
                    for variant in sorted(path.iterdir()):
                        if variant.is_file() and variant.suffix in SUFFIXES:
                            t = self._load(path.name, variant, current=False)
                            found.setdefault((t.prompt_id, t.version), t)
        return list(found.values())

    @staticmethod
    def _load(prompt_id: str, path: Path, *, current: bool) -> FoundTemplate:
        data = path.read_bytes()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidRequest(f"prompt template {path} is not UTF-8 text") from None
        return FoundTemplate(prompt_id, content_version(data), text, path, current)

    def sync(self) -> list[FoundTemplate]:
        """Record every template version on disk (idempotent); returns what was found."""
        found = self.scan()
        with self._sync_lock, self.engine.begin() as conn:
            known = {
                (r.prompt_id, r.version)
                for r in conn.execute(select(versions.c.prompt_id, versions.c.version))
            }
            new = [
                {
                    "prompt_id": t.prompt_id,
                    "version": t.version,
                    "text": t.text,
                    "source": str(t.path),
                    "first_seen_at": datetime.now(UTC),
                }
                for t in found
                if (t.prompt_id, t.version) not in known
            ]
            for row in new:
                try:
                    with conn.begin_nested():
                        conn.execute(insert(versions), row)
                except IntegrityError:  # another process recorded it first: same hash, same text
                    pass
        return found

    # PromptSource -----------------------------------------------------------------------------
    def active(self, prompt_id: str) -> PromptVersion:
        hit = self._cache.get(prompt_id)
        if hit is not None:
            return hit
        version = self._resolve(prompt_id)
        self._cache.put(prompt_id, version)
        return version

    def _resolve(self, prompt_id: str) -> PromptVersion:
        found = self.sync()
        pinned = self._last_activation(prompt_id)
        if pinned is not None:
            return self.get(prompt_id, pinned)
        current = [t for t in found if t.prompt_id == prompt_id and t.current]
        if current:
            t = current[0]
            return PromptVersion(prompt_id, t.version, t.text)
        raise NotFound(f"no prompt {prompt_id!r}", details={"prompt_id": prompt_id})

    # Queries ----------------------------------------------------------------------------------
    def get(self, prompt_id: str, version: str | None = None) -> PromptVersion:
        """One version (``None``: the active one); accepts a unique version prefix."""
        if version is None:
            return self.active(prompt_id)
        if not _HEX.fullmatch(version):
            raise InvalidRequest(f"bad prompt version {version!r}: 1-12 hex digits")
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(versions.c.version, versions.c.text).where(
                    versions.c.prompt_id == prompt_id, versions.c.version.startswith(version)
                )
            ).all()
        if not rows:
            self.sync()
            with self.engine.connect() as conn:
                rows = conn.execute(
                    select(versions.c.version, versions.c.text).where(
                        versions.c.prompt_id == prompt_id,
                        versions.c.version.startswith(version),
                    )
                ).all()
        if not rows:
            raise NotFound(
                f"no version {version!r} of prompt {prompt_id!r}",
                details={"prompt": f"{prompt_id}@{version}"},
            )
        if len(rows) > 1:
            raise InvalidRequest(f"version prefix {version!r} of {prompt_id!r} is ambiguous")
        return PromptVersion(prompt_id, rows[0].version, rows[0].text)

    def resolve_ref(self, ref: str) -> PromptVersion:
        """``answer@3f2a…`` (or ``answer`` for the active version)."""
        prompt_id, version = _parse_ref(ref)
        return self.get(prompt_id, version)

    def _last_activation(self, prompt_id: str) -> str | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(acts.c.version)
                .where(acts.c.prompt_id == prompt_id)
                .order_by(acts.c.id.desc())
                .limit(1)
            ).first()
        return None if row is None else str(row.version)

    def list_prompts(self) -> list[PromptInfo]:
        found = self.sync()
        with self.engine.connect() as conn:
            seen: dict[str, list[str]] = {}
            for r in conn.execute(
                select(versions.c.prompt_id, versions.c.version).order_by(
                    versions.c.prompt_id, versions.c.first_seen_at, versions.c.version
                )
            ):
                seen.setdefault(r.prompt_id, []).append(r.version)
        out = []
        for prompt_id, vs in sorted(seen.items()):
            current = next(
                (t.version for t in found if t.prompt_id == prompt_id and t.current), None
            )
            pinned = self._last_activation(prompt_id)
            active = pinned or current
            if active is None:
                continue
            out.append(PromptInfo(prompt_id, active, current, tuple(vs), pinned is not None))
        return out

    def history(self, prompt_id: str) -> list[dict[str, object]]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(acts).where(acts.c.prompt_id == prompt_id).order_by(acts.c.id)
            ).all()
        return [
            {
                "version": r.version,
                "action": r.action,
                "by": r.activated_by,
                "at": r.activated_at.isoformat(),
            }
            for r in rows
        ]

    def diff(self, ref_a: str, ref_b: str | None = None) -> str:
        """A unified diff between two versions (``ref_b`` defaults to the active version)."""
        a = self.resolve_ref(ref_a)
        b = self.resolve_ref(ref_b) if ref_b else self.active(a.prompt_id)
        return "".join(
            difflib.unified_diff(
                a.text.splitlines(keepends=True),
                b.text.splitlines(keepends=True),
                fromfile=a.ref,
                tofile=b.ref,
            )
        )

    # Changes ----------------------------------------------------------------------------------
    def activate(self, ref: str, *, by: str = "", action: str = "activate") -> PromptVersion:
        prompt_id, version = _parse_ref(ref)
        if not version:
            raise InvalidRequest(f"name a version to activate: {prompt_id}@<version>")
        target = self.get(prompt_id, version)
        with self.engine.begin() as conn:
            conn.execute(
                insert(acts).values(
                    prompt_id=prompt_id,
                    version=target.version,
                    action=action,
                    activated_by=by,
                    activated_at=datetime.now(UTC),
                )
            )
        self.invalidate()
        return target

    def rollback(self, prompt_id: str, *, by: str = "") -> PromptVersion:
        """Re-activate the version that was active before the current one."""
        current = self.active(prompt_id).version
        with self.engine.connect() as conn:
            history = [
                r.version
                for r in conn.execute(
                    select(acts.c.version)
                    .where(acts.c.prompt_id == prompt_id)
                    .order_by(acts.c.id.desc())
                )
            ]
        if not history:
            raise InvalidRequest(f"prompt {prompt_id!r} has no activation to roll back")
        # Without an earlier activation, the version before the first one was the file's.
        previous = next((v for v in history if v != current), None)
        if previous is None:
            found = [t for t in self.scan() if t.prompt_id == prompt_id and t.current]
            if not found or found[0].version == current:
                raise InvalidRequest(f"prompt {prompt_id!r}: no earlier version to roll back to")
            previous = found[0].version
        return self.activate(f"{prompt_id}@{previous}", by=by, action="rollback")

    def invalidate(self) -> None:
        self._cache.clear()
