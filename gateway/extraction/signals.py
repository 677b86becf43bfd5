"""The lexical and structural signals of a question and of a candidate unit.

Terms are lower-cased words with common endings stripped (``terminates`` and ``termination``
meet at ``terminat``), stop words dropped; CJK text counts each character as a term. What a
question asks for (a quantity, a time, a person, a definition, a yes or no) is read from its
wording, and a unit is checked for what would answer it (numbers, money, durations, dates,
names, a definition, a modal verb).
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

_TOKEN = re.compile(r"[a-z0-9]+|[\u3040-\u30ff\u3400-\u9fff]", re.IGNORECASE)
STOPWORDS = frozenset(
    """a about above after again all also am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further
    had has have having he her here hers him his how i if in into is it its itself just me more
    most my no nor not now of off on once only or other our ours out over own same she should
    so some such than that the their theirs them then there these they this those through to
    too under until up very was we were what when where which while who whom why will with
    would you your yours shall may must might please tell us give get got""".split()  # noqa: SIM905
)
_SUFFIXES = (
    "ations",
    "ation",
    "ments",
    "ment",
    "ings",
    "ing",
    "ness",
    "ies",
    "ied",
    "ers",
    "er",
    "ed",
    "es",
    "ly",
    "s",
)
NUMBER_WORDS = frozenset(
    """zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen
    fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty
    ninety hundred thousand million billion half quarter""".split()  # noqa: SIM905
)
_NUMBER = re.compile(r"\d")
_MONEY = re.compile(r"[$€£¥]|\b(?:usd|eur|gbp|cny|rmb|dollars?|euros?|yuan)\b", re.IGNORECASE)
_DURATION = re.compile(
    r"\b(?:days?|weeks?|months?|years?|hours?|minutes?|seconds?|business days?)\b", re.IGNORECASE
)
_DATE = re.compile(
    r"\b(?:\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{2,4}|january|february|march|april|may|june|july|"
    r"august|september|october|november|december|q[1-4]|monday|tuesday|wednesday|thursday|"
    r"friday|annual(?:ly)?|quarterly|monthly|weekly|daily)\b",
    re.IGNORECASE,
)
_DEFINITION = re.compile(
    r"\b(?:means|mean|is defined as|refers to|is an?|are)\b|[\"“][A-Z][^\"”]{1,40}[\"”]"
)
_MODAL = re.compile(
    r"\b(?:may|must|shall|can|cannot|can't|will|won't|should|not|never|only|required|allowed|"
    r"prohibited|permitted)\b",
    re.IGNORECASE,
)
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z]+(?:\s+[A-Z][a-z]+)*")

QUESTION_TYPES: dict[str, re.Pattern[str]] = {
    "quantity": re.compile(
        r"\bhow (?:many|much|long|often|far|soon|large|big|high|low)\b|\b(?:number|amount|"
        r"percentage|percent|rate|limit|cap|fee|fees|price|cost|size|maximum|minimum|notice|"
        r"period|threshold|quota|budget|salary|days|hours|months|years)\b",
        re.IGNORECASE,
    ),
    "time": re.compile(
        r"\bwhen\b|\bwhat (?:date|time|day|year|month)\b|\bdeadline\b|\bby when\b|"
        r"\beffective\b|\bexpir|\bdue\b",
        re.IGNORECASE,
    ),
    "person": re.compile(
        r"\bwho\b|\bwhom\b|\bwhose\b|\bwhich (?:party|team|department|person|company|role)\b",
        re.IGNORECASE,
    ),
    "definition": re.compile(
        r"^\s*what (?:is|are) (?:a |an |the )?[\w\s-]{1,40}\??$|\bdefine\b|\bmeaning of\b|"
        r"\bwhat does [\w\s-]{1,40} mean\b",
        re.IGNORECASE,
    ),
    "yesno": re.compile(
        r"^\s*(?:can|may|is|are|does|do|must|should|will|shall|am|could|would)\b", re.IGNORECASE
    ),
}


def stem(word: str) -> str:
    if len(word) <= 4 or word.isdigit():
        return word
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def terms(text: str) -> list[str]:
    """The content terms of ``text``, in order (repeats kept)."""
    out = []
    for token in _TOKEN.findall(text.lower()):
        if token in STOPWORDS or (len(token) == 1 and token.isascii() and not token.isdigit()):
            continue
        out.append(stem(token))
    return out


def idf_table(documents: Iterable[Sequence[str]]) -> dict[str, float]:
    """Smoothed inverse document frequency of each term over ``documents`` (term lists)."""
    df: Counter[str] = Counter()
    n = 0
    for doc in documents:
        n += 1
        df.update(set(doc))
    return {t: math.log(1.0 + (n + 1) / (c + 0.5)) for t, c in df.items()}


@dataclass(frozen=True)
class QuestionFacts:
    text: str
    terms: tuple[str, ...]  # distinct content terms, in order
    bigrams: frozenset[tuple[str, str]]
    kinds: frozenset[str]  # quantity | time | person | definition | yesno


def read_question(question: str) -> QuestionFacts:
    found = terms(question)
    distinct = tuple(dict.fromkeys(found))
    kinds = frozenset(kind for kind, pattern in QUESTION_TYPES.items() if pattern.search(question))
    return QuestionFacts(question, distinct, frozenset(itertools.pairwise(found)), kinds)


def answers_kind(text: str, kinds: frozenset[str]) -> float:
    """How well ``text`` has what the question asks for: 1 when it has it, 0 when the question
    asks for something it lacks, 0.5 when the question asks for nothing in particular."""
    if not kinds:
        return 0.5
    lowered = text.lower()
    has_number = bool(_NUMBER.search(text)) or any(w in NUMBER_WORDS for w in lowered.split())
    checks = {
        "quantity": has_number or bool(_MONEY.search(text)),
        "time": bool(_DATE.search(text)) or (has_number and bool(_DURATION.search(text))),
        "person": bool(_NAME.search(text)),
        "definition": bool(_DEFINITION.search(text)),
        "yesno": bool(_MODAL.search(text)),
    }
    return 1.0 if any(checks[k] for k in kinds) else 0.0
