"""The answer prompt, laid out for prompt caching.

    system: [ prefix text  <- cache_control breakpoint ]      byte-identical per prompt version
    user:   [ numbered sources (deterministic order) + the question ]

The prefix is: the answer template (prompt id ``answer``, versioned by the prompt registry),
then the deployment's standing knowledge (optional), then, only when the cache plan says so,
padding up to the first model's minimum cacheable length (worked examples first, then a
neutral filler). It is built once per (template version, standing knowledge, plan) and reused
as the same ``str`` object, so every request of a version sends the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from typing import Any

from kernel.digest import content_version
from retrieval.cache_plan import CachePlan
from retrieval.context_builder import Source
from retrieval.tokens import PromptTokenCounter, count_tokens

PROMPT_ID = "answer"
EXAMPLES_ID = "answer_examples"  # worked examples: the first padding of the prefix
NOT_IN_SOURCES = "The sources do not contain the answer."
_FILLER_HEADER = (
    "\n\n# Cache alignment\n\nThe lines below only make this fixed part of the "
    "prompt long enough to be cached. They carry no instructions and no knowledge.\n"
)
_FILLER_LINE = "- this line is only here to align the cache and has no meaning"


def packaged_prompt(name: str) -> str:
    return (resources.files("retrieval") / "prompts" / name).read_text(encoding="utf-8")


@dataclass(frozen=True)
class Prefix:
    text: str
    template_ref: str  # e.g. "answer@3f2a9c0d1b2e": written on the ledger as prompt version
    digest: str  # hash of the whole prefix (template + standing knowledge + padding)
    tokens: int  # local count
    natural_tokens: int  # before padding
    plan: CachePlan


def natural_prefix(template: str, standing_knowledge: str = "") -> str:
    text = template.rstrip() + "\n"
    if standing_knowledge.strip():
        text += "\n# Standing knowledge\n\n" + standing_knowledge.strip() + "\n"
    return text


def pad(text: str, target_tokens: int, examples: str, counter: PromptTokenCounter) -> str:
    """``text`` grown to at least ``target_tokens``: worked examples, then numbered filler."""
    if counter(text) >= target_tokens:
        return text
    text = text + "\n" + examples.strip() + "\n"
    have = counter(text)
    if have >= target_tokens:
        return text
    lines = [_FILLER_HEADER]
    # Plain common words: every tokenizer (cl100k, Claude's, the emulator's) counts about one
    # token per word here, so the local count stays close to the provider's.
    while have < target_tokens:
        lines.append("\n".join([_FILLER_LINE] * 32) + "\n")
        have = counter(text + "".join(lines))
    return text + "".join(lines)


def build_prefix(
    template: str,
    template_ref: str,
    plan: CachePlan,
    *,
    standing_knowledge: str = "",
    examples: str | None = None,
    counter: PromptTokenCounter = count_tokens,
) -> Prefix:
    natural = natural_prefix(template, standing_knowledge)
    natural_tokens = counter(natural)
    text = natural
    if plan.pad_to_tokens > natural_tokens:
        ex = examples if examples is not None else packaged_prompt("answer_examples.md")
        text = pad(natural, plan.pad_to_tokens, ex, counter)
    return Prefix(
        text=text,
        template_ref=template_ref,
        digest=content_version(text),
        tokens=counter(text),
        natural_tokens=natural_tokens,
        plan=plan,
    )


def _attr(value: str) -> str:
    return " ".join(value.split())


def render_sources(sources: list[Source]) -> str:
    parts = []
    for s in sources:
        head = f"[{s.n}] {_attr(s.title) or _attr(s.source) or s.doc_id}"
        if s.section:
            head += f" ({_attr(s.section)})"
        meta = "; ".join(x for x in (s.doc_type, _attr(s.source)) if x)
        if meta:
            head += f" [{meta}]"
        parts.append(head + "\n" + s.text.strip())
    return "\n\n".join(parts)


def user_message(sources: list[Source], question: str) -> str:
    return "Sources:\n\n" + render_sources(sources) + "\n\nQuestion: " + question.strip()


def system_blocks(prefix: Prefix, ttl: str = "5m") -> list[dict[str, Any]]:
    block: dict[str, Any] = {"type": "text", "text": prefix.text}
    if prefix.plan.breakpoint:
        block["cache_control"] = (
            {"type": "ephemeral"} if ttl == "5m" else {"type": "ephemeral", "ttl": ttl}
        )
    return [block]


def messages(sources: list[Source], question: str) -> list[dict[str, Any]]:
    return [
        {"role": "user", "content": [{"type": "text", "text": user_message(sources, question)}]}
    ]
