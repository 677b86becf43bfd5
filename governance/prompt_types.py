"""Prompt versions as the rest of loregate sees them (the registry is gateway/governance)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class PromptVersion:
    prompt_id: str
    version: str  # content hash of the template file (hex, 12 chars)
    text: str

    @property
    def ref(self) -> str:
        return f"{self.prompt_id}@{self.version}"


class PromptSource(Protocol):
    def active(self, prompt_id: str) -> PromptVersion:
        """The active version of ``prompt_id`` (raises ``NotFound`` if there is none)."""
        ...


class Redactor(Protocol):
    def redact(self, text: str) -> str:
        """``text`` with personal data and secrets replaced by typed placeholders."""
        ...
