"""Our PII and secret patterns with their checksums, in plain ``re`` (no presidio import).

They serve twice: as presidio recognisers (``pii_recognizers``, used by ``PiiRedactor``) and,
on their own, as ``quick_redact``: a redaction that never waits for presidio to load, used for
log records and ledger text before the engine is ready.

    EMAIL_ADDRESS   a regex (no domain lookup: presidio's own one downloads a suffix list)
    PHONE_NUMBER    mainland China mobiles (+86 optional); ``quick_redact`` also takes any
                    +<country code> number (presidio's phonenumbers recogniser does better)
    CN_RESIDENT_ID  18 characters, ISO 7064 MOD 11-2 check character, a real birth date
    CREDIT_CARD     13-19 digits (spaces or dashes) passing Luhn (``quick_redact`` only)
    IBAN_CODE       country, check digits, BBAN passing mod 97 (``quick_redact`` only)
    SECRET          provider and cloud keys, tokens, private keys, ``password=...`` values
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

CN_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CN_ID_CHECK = "10X98765432"


def cn_resident_id_valid(value: str) -> bool:
    """GB 11643-1999: 17 digits, an ISO 7064 MOD 11-2 check character, a real birth date."""
    value = value.upper()
    if len(value) != 18 or not value[:17].isdigit():
        return False
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    if not 1900 <= born.year <= date.today().year:
        return False
    total = sum(int(d) * w for d, w in zip(value[:17], CN_ID_WEIGHTS, strict=True))
    return CN_ID_CHECK[total % 11] == value[17]


def luhn_valid(value: str) -> bool:
    digits = [int(c) for c in value if c.isdigit()]
    if not 13 <= len(digits) <= 19:
        return False
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def iban_valid(value: str) -> bool:
    compact = re.sub(r"[\s-]", "", value).upper()
    if not 15 <= len(compact) <= 34:
        return False
    moved = compact[4:] + compact[:4]
    number = "".join(str(int(c, 36)) for c in moved)
    return int(number) % 97 == 1


@dataclass(frozen=True)
class Rule:
    name: str
    regex: re.Pattern[str]
    score: float
    group: int = 0
    validate: Callable[[str], bool] | None = None


def _r(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


EMAIL_RULES = [
    Rule(
        "email",
        _r(r"(?<![\w.%+-])[A-Za-z0-9._%+-]{1,64}@(?:[A-Za-z0-9-]{1,63}\.)+[A-Za-z]{2,24}\b"),
        0.9,
    )
]

CN_MOBILE_RULES = [
    Rule("cn_mobile", _r(r"(?<![\d+])(?:(?:\+|00)?86[\s-]?)?1[3-9]\d(?:[\s-]?\d{4}){2}(?!\d)"), 0.7)
]

INTL_PHONE_RULES = [
    Rule("intl_phone", _r(r"(?<![\w+])\+[1-9]\d{0,2}(?:[\s.-]?\(?\d{1,4}\)?){2,5}(?!\d)"), 0.6)
]

CN_RESIDENT_ID_RULES = [
    Rule(
        "cn_resident_id",
        _r(r"(?<![0-9A-Za-z])[1-9]\d{16}[0-9Xx](?![0-9A-Za-z])"),
        0.95,
        validate=cn_resident_id_valid,
    )
]

CARD_RULES = [
    Rule("card", _r(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])"), 0.9, validate=luhn_valid)
]

IBAN_RULES = [
    Rule(
        "iban",
        _r(r"\b[A-Z]{2}\d{2}(?:[ -]?[A-Z0-9]{4}){2,7}(?:[ -]?[A-Z0-9]{1,4})?\b"),
        0.9,
        validate=iban_valid,
    )
]

_SECRET_PATTERNS = [
    ("anthropic_key", r"\bsk-ant-[A-Za-z0-9_-]{20,}", 0),
    ("openai_key", r"\bsk-(?:proj-|svcacct-)?[A-Za-z0-9_-]{20,}", 0),
    ("loregate_key", r"\blg_[0-9a-f]{8}_[A-Za-z0-9_-]{20,}", 0),
    ("aws_access_key", r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b", 0),
    ("github_token", r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{22,})", 0),
    ("slack_token", r"\bxox[abprs]-[A-Za-z0-9-]{10,}", 0),
    ("google_api_key", r"\bAIza[0-9A-Za-z_-]{35}", 0),
    ("stripe_key", r"\b(?:sk|rk|pk)_(?:live|test)_[0-9A-Za-z]{16,}", 0),
    ("jwt", r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}", 0),
    (
        "private_key",
        r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----",
        0,
    ),
    ("bearer", r"(?i)\bbearer\s+([A-Za-z0-9._~+/=-]{16,})", 1),
    (
        "assignment",
        r"(?i)\b(?:api[_-]?key|secret(?:[_-]?key)?|client[_-]?secret|password|passwd|pwd|"
        r"access[_-]?token|auth[_-]?token|token)\b[\"']?\s*[:=]\s*[\"']?([^\s\"',;]{6,})",
        1,
    ),
]

SECRET_RULES = [Rule(name, _r(pattern), 0.95, group) for name, pattern, group in _SECRET_PATTERNS]

QUICK_RULES: list[tuple[str, list[Rule]]] = [
    ("SECRET", SECRET_RULES),
    ("EMAIL_ADDRESS", EMAIL_RULES),
    ("CN_RESIDENT_ID", CN_RESIDENT_ID_RULES),
    ("CREDIT_CARD", CARD_RULES),
    ("IBAN_CODE", IBAN_RULES),
    ("PHONE_NUMBER", CN_MOBILE_RULES + INTL_PHONE_RULES),
]


def spans(text: str, rules: list[Rule]) -> list[tuple[int, int, float]]:
    """(start, end, score) of every validated match of ``rules``."""
    found = []
    for rule in rules:
        for match in rule.regex.finditer(text):
            start, end = match.span(rule.group)
            if start < end and (rule.validate is None or rule.validate(text[start:end])):
                found.append((start, end, rule.score))
    return found


def replace_spans(text: str, found: list[tuple[str, int, int]]) -> str:
    """Replace (entity, start, end) spans (sorted, not overlapping) by ``<ENTITY>``."""
    out, pos = [], 0
    for entity, start, end in found:
        out.append(text[pos:start])
        out.append(f"<{entity}>")
        pos = end
    out.append(text[pos:])
    return "".join(out)


@dataclass
class _Span:
    start: int
    end: int
    score: float
    entity: str


def merge(findings: list[tuple[int, int, float, str]]) -> list[tuple[str, int, int]]:
    """Overlapping findings become one span labelled by the longest (then surest) one."""
    merged: list[_Span] = []
    for start, end, score, entity in sorted(findings, key=lambda s: (s[0], -s[1])):
        if merged and start < merged[-1].end:
            last = merged[-1]
            if (end - start, score) > (last.end - last.start, last.score):
                last.score, last.entity = score, entity
            last.end = max(last.end, end)
        else:
            merged.append(_Span(start, end, score, entity))
    return [(m.entity, m.start, m.end) for m in merged]


# Something every rule above (and presidio's card and IBAN recognisers) needs to match: an "@",
# seven digits in a row (spaces, dots, dashes and brackets allowed between them), or a secret's
# prefix or keyword. A text without any of these has nothing to redact: skip the analysis.
SUSPECT = re.compile(
    r"@|\d(?:[\s().-]?\d){6}|sk-|lg_|AKIA|ASIA|gh[pousr]_|github_pat_|xox[abprs]-|AIza|"
    r"_live_|_test_|eyJ|PRIVATE KEY|bearer|api[_-]?key|secret|passw|pwd|token",
    re.IGNORECASE,
)


def suspect(text: str) -> bool:
    """Whether ``text`` may hold anything to redact (a cheap superset of every rule)."""
    return SUSPECT.search(text) is not None


# Per entity type, something each of its rules and recognisers (ours and presidio's) needs to
# match: only the types whose sign is in a text are analysed (presidio runs every recogniser of
# a requested type over the whole text; its IBAN one alone costs more than all of ours).
ENTITY_SIGNS: dict[str, re.Pattern[str]] = {
    "EMAIL_ADDRESS": re.compile("@"),
    "PHONE_NUMBER": re.compile(r"\d(?:[\s().-]?\d){6}"),
    "CN_RESIDENT_ID": re.compile(r"\d{17}"),
    "CREDIT_CARD": re.compile(r"\d(?:[ -]?\d){12}"),
    "IBAN_CODE": re.compile(r"[A-Z]{2}\d{2}"),
    "SECRET": re.compile(
        r"sk-|lg_|AKIA|ASIA|gh[pousr]_|github_pat_|xox[abprs]-|AIza|_live_|_test_|eyJ|"
        r"PRIVATE KEY|bearer|api[_-]?key|secret|passw|pwd|token",
        re.IGNORECASE,
    ),
}


def possible_entities(text: str) -> list[str]:
    """The entity types ``text`` may hold (each type's sign is in it)."""
    return [entity for entity, sign in ENTITY_SIGNS.items() if sign.search(text)]


def quick_redact(text: str) -> str:
    """Redact with the regex rules alone: microseconds, no presidio."""
    if len(text) < 6 or not suspect(text):
        return text
    findings = [
        (start, end, score, entity)
        for entity, rules in QUICK_RULES
        for start, end, score in spans(text, rules)
    ]
    return replace_spans(text, merge(findings)) if findings else text
