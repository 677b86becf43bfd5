"""The judge the answer service hands to the gateway: is this answer good enough to return?

A weak verdict escalates the request to the route's next tier (and, after the last tier, the
answer service degrades). Weak means any of:

- ``empty_answer``: no text;
- ``refusal``: the model declines ("I can't help with that", or stop_reason "refusal");
- ``not_in_sources``: the model says the sources do not contain the answer (the exact sentence
  the prompt asks for, or a clear paraphrase in an answer that cites nothing);
- ``invalid_citation``: a cited number that was not among the sources given;
- ``no_citation``: sources were given and the answer cites none of them.
"""

from __future__ import annotations

import re

from gateway.types import ModelResponse, Verdict
from retrieval.citations import check_citations
from retrieval.prompt_layout import NOT_IN_SOURCES

_REFUSAL = re.compile(
    r"(\b(i|we)\s*(?:'m|am|are)?\s*(can(?:no|')?t|cannot|am unable to|are unable to|unable to|"
    r"won'?t|will not|must decline to)\s+(help|assist|answer|provide|comply|do that|"
    r"share|respond)\b)|(\bi'?m sorry,? but i\b)|(\bas an ai\b)",
    re.I,
)
_NOT_IN_SOURCES = re.compile(
    r"(\b(sources?|context|documents?|excerpts?|provided (?:information|text))\s+"
    r"(?:do(?:es)?\s*n[o']t|do(?:es)? not|don'?t|doesn'?t)\s+"
    r"(contain|mention|include|provide|say|cover|address|specify|answer)\b)|"
    r"(\bnot\s+(mentioned|found|covered|provided|included|specified|addressed)\s+in\s+the\s+"
    r"(sources?|context|documents?|excerpts?)\b)|"
    r"(\bno (relevant )?information (about|on|regarding|in the sources)\b)|"
    r"(\b(i )?(can(?:no|')?t|cannot|could not|couldn'?t) find\b)",
    re.I,
)


def _normalise(text: str) -> str:
    return " ".join(text.split()).strip().lower()


def assess(text: str, n_sources: int, stop_reason: str | None = None) -> Verdict:
    body = text.strip()
    if stop_reason == "refusal":
        return Verdict(False, "refusal")
    if not body:
        return Verdict(False, "empty_answer")
    if _normalise(NOT_IN_SOURCES).rstrip(".") in _normalise(body):
        return Verdict(False, "not_in_sources")
    first_sentence = re.split(r"(?<=[.!?])\s", body, maxsplit=1)[0]
    if _REFUSAL.search(first_sentence):
        return Verdict(False, "refusal")
    check = check_citations(body, n_sources)
    if check.invalid:
        listed = ", ".join(str(n) for n in check.invalid)
        return Verdict(False, f"invalid_citation: [{listed}] (sources 1-{n_sources} given)")
    if not check.cited:
        if _REFUSAL.search(body):
            return Verdict(False, "refusal")
        if _NOT_IN_SOURCES.search(body):
            return Verdict(False, "not_in_sources")
        if n_sources > 0:
            return Verdict(False, "no_citation")
    return Verdict(True, "ok")


class AnswerJudge:
    """A gateway ``Judge`` for one request that gave ``n_sources`` numbered sources."""

    def __init__(self, n_sources: int) -> None:
        self.n_sources = n_sources

    def __call__(self, response: ModelResponse) -> Verdict:
        return assess(response.text, self.n_sources, response.stop_reason)
