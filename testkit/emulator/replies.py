"""Turn a scripted or default reply into content blocks, honouring max tokens and stop sequences."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from testkit.emulator.answers import Reply
from testkit.emulator.tokens import count_block, count_text, truncate_text


@dataclass(frozen=True)
class Rendered:
    """Anthropic-shaped content blocks and how the generation ended."""

    blocks: list[dict[str, Any]]
    stop_reason: str  # end_turn | max_tokens | stop_sequence | tool_use
    stop_sequence: str | None
    output_tokens: int

    @property
    def text(self) -> str:
        return "".join(b.get("text", "") for b in self.blocks if b.get("type") == "text")


def forced_tool(body: dict[str, Any]) -> dict[str, Any] | None:
    """The tool a request forces the model to call (Anthropic or OpenAI shape), if any."""
    tools = [t for t in body.get("tools") or [] if isinstance(t, dict)]
    choice = body.get("tool_choice")
    if not tools or choice is None:
        return None
    names = [str(t.get("name") or (t.get("function") or {}).get("name", "")) for t in tools]
    if isinstance(choice, str):  # OpenAI: "required" forces one
        wanted = names[0] if choice == "required" else None
    elif choice.get("type") == "any":
        wanted = names[0]
    elif choice.get("type") == "tool":
        wanted = str(choice.get("name"))
    elif choice.get("type") == "function":
        wanted = str((choice.get("function") or {}).get("name"))
    else:
        wanted = None
    if wanted is None or wanted not in names:
        return None
    tool = tools[names.index(wanted)]
    schema = tool.get("input_schema") or (tool.get("function") or {}).get("parameters") or {}
    return {"name": wanted, "input": example_input(schema)}


def example_input(schema: dict[str, Any]) -> dict[str, Any]:
    """A deterministic value for each required property of a JSON schema object."""
    defaults: dict[str, Any] = {
        "string": "emulated",
        "integer": 1,
        "number": 1.0,
        "boolean": True,
        "array": [],
        "object": {},
    }
    props = schema.get("properties") or {}
    out: dict[str, Any] = {}
    for name in schema.get("required") or []:
        spec = props.get(name) or {}
        if spec.get("enum"):
            out[name] = spec["enum"][0]
        else:
            kind = spec.get("type", "string")
            out[name] = defaults.get(kind if isinstance(kind, str) else "string", "emulated")
    return out


def _cut(text: str, stops: list[str], max_tokens: int) -> tuple[str, str, str | None]:
    """Apply stop sequences, then the token limit: (text, stop_reason, stop_sequence)."""
    first: tuple[int, str] | None = None
    for stop in stops:
        pos = text.find(stop) if stop else -1
        if pos >= 0 and (first is None or pos < first[0]):
            first = (pos, stop)
    reason, sequence = "end_turn", None
    if first is not None:
        text, reason, sequence = text[: first[0]], "stop_sequence", first[1]
    if count_text(text) > max_tokens:
        return truncate_text(text, max_tokens), "max_tokens", None
    return text, reason, sequence


def render(
    reply: Reply, *, max_tokens: int, stops: list[str], new_tool_id: Callable[[], str]
) -> Rendered:
    """``new_tool_id`` makes ids for tool_use blocks that have none."""
    if isinstance(reply, str):
        text, reason, sequence = _cut(reply, stops, max_tokens)
        blocks: list[dict[str, Any]] = [{"type": "text", "text": text}]
        return Rendered(blocks, reason, sequence, count_text(text))
    blocks = []
    reason, sequence = "end_turn", None
    budget = max_tokens
    for block in reply:
        if block.get("type") == "text":
            text, reason, sequence = _cut(str(block.get("text", "")), stops, budget)
            blocks.append({"type": "text", "text": text})
        elif block.get("type") == "tool_use":
            blocks.append(
                {
                    "type": "tool_use",
                    "id": block.get("id") or new_tool_id(),
                    "name": block["name"],
                    "input": block.get("input", {}),
                }
            )
            reason = "tool_use"
        else:
            blocks.append(dict(block))
        budget -= count_block(blocks[-1])
        if reason in ("max_tokens", "stop_sequence"):
            break
    return Rendered(blocks, reason, sequence, sum(count_block(b) for b in blocks))


_PIECE = re.compile(r"\S+\s*|\s+")


def text_pieces(text: str, words_per_piece: int = 3) -> list[str]:
    """Split text into streaming deltas of a few words (concatenation gives ``text`` back)."""
    words = _PIECE.findall(text)
    return ["".join(words[i : i + words_per_piece]) for i in range(0, len(words), words_per_piece)]
