"""The answer template as a ``PromptSource`` when no prompt registry is wired.

The registry (gateway governance) serves the active version of prompt ``answer``; without it,
this source serves the packaged ``retrieval/prompts/answer.md`` (or a file given by path),
versioned the same way: 12 hex digits of the sha256 of the file's bytes.
"""

from __future__ import annotations

from pathlib import Path

from governance.prompt_types import PromptVersion
from kernel.digest import content_version
from kernel.errors import NotFound
from retrieval.prompt_layout import EXAMPLES_ID, PROMPT_ID, packaged_prompt


class PackagedPrompts:
    def __init__(self, overrides: dict[str, Path] | None = None) -> None:
        self._overrides = dict(overrides or {})
        self._cache: dict[str, PromptVersion] = {}

    def active(self, prompt_id: str) -> PromptVersion:
        if prompt_id in self._cache:
            return self._cache[prompt_id]
        if prompt_id in self._overrides:
            text = self._overrides[prompt_id].read_text(encoding="utf-8")
        elif prompt_id in (PROMPT_ID, EXAMPLES_ID):
            text = packaged_prompt(f"{prompt_id}.md")
        else:
            raise NotFound(f"no prompt {prompt_id!r}")
        version = PromptVersion(prompt_id, content_version(text), text)
        self._cache[prompt_id] = version
        return version
