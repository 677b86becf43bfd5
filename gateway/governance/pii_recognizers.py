"""Our presidio recognisers: regular expressions plus checksums, no NLP model, no network.

presidio's own e-mail recogniser validates domains with ``tldextract``, which downloads the
public suffix list: ours does not. Phone numbers, payment cards and IBANs use presidio's
recognisers (python-phonenumbers, Luhn and the IBAN checksum); this module adds e-mail,
mainland China mobile numbers, mainland China resident ID numbers (checksum and birth date
verified) and API keys and secrets.

Only this module and ``redaction`` import presidio (slow to import: keep it off start-up paths).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from presidio_analyzer import EntityRecognizer, LocalRecognizer, RecognizerResult

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


@dataclass(frozen=True)
class Rule:
    name: str
    regex: re.Pattern[str]
    score: float
    group: int = 0
    validate: Callable[[str], bool] | None = None


class RegexRecognizer(LocalRecognizer):  # type: ignore[misc]
    """Rules of one entity type; a rule may report a capture group instead of the match."""

    def __init__(self, entity: str, rules: list[Rule]) -> None:
        self.rules = rules
        self.label = f"loregate_{entity.lower()}"
        super().__init__(supported_entities=[entity], name=self.label)

    def load(self) -> None:
        return None

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: Any = None
    ) -> list[RecognizerResult]:
        results = []
        for rule in self.rules:
            for match in rule.regex.finditer(text):
                start, end = match.span(rule.group)
                if start >= end:
                    continue
                if rule.validate is not None and not rule.validate(text[start:end]):
                    continue
                results.append(
                    RecognizerResult(
                        entity_type=self.supported_entities[0],
                        start=start,
                        end=end,
                        score=rule.score,
                        recognition_metadata={
                            RecognizerResult.RECOGNIZER_NAME_KEY: self.label,
                            RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                        },
                    )
                )
        return list(EntityRecognizer.remove_duplicates(results))


def _r(pattern: str, flags: int = 0) -> re.Pattern[str]:
    return re.compile(pattern, flags)


EMAIL_RULES = [
    Rule(
        "email",
        _r(r"(?<![\w.%+-])[A-Za-z0-9._%+-]{1,64}@(?:[A-Za-z0-9-]{1,63}\.)+[A-Za-z]{2,24}\b"),
        0.9,
    )
]

CN_MOBILE_RULES = [
    Rule(
        "cn_mobile",
        _r(r"(?<![\d+])(?:(?:\+|00)?86[\s-]?)?1[3-9]\d(?:[\s-]?\d{4}){2}(?!\d)"),
        0.7,
    )
]

CN_RESIDENT_ID_RULES = [
    Rule(
        "cn_resident_id",
        _r(r"(?<![0-9A-Za-z])[1-9]\d{16}[0-9Xx](?![0-9A-Za-z])"),
        0.95,
        validate=cn_resident_id_valid,
    )
]

_SECRET_RULES = [
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

SECRET_RULES = [Rule(name, _r(pattern), 0.95, group) for name, pattern, group in _SECRET_RULES]


def build_recognizers(phone_regions: tuple[str, ...]) -> list[Any]:
    from presidio_analyzer.predefined_recognizers import (
        CreditCardRecognizer,
        IbanRecognizer,
        PhoneRecognizer,
    )

    return [
        RegexRecognizer("EMAIL_ADDRESS", EMAIL_RULES),
        RegexRecognizer("PHONE_NUMBER", CN_MOBILE_RULES),
        RegexRecognizer("CN_RESIDENT_ID", CN_RESIDENT_ID_RULES),
        RegexRecognizer("SECRET", SECRET_RULES),
        PhoneRecognizer(supported_regions=phone_regions, leniency=1),
        CreditCardRecognizer(),
        IbanRecognizer(),
    ]
