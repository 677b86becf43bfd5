"""Our rules (``pii_rules``) as presidio recognisers, next to presidio's own ones.

presidio's own e-mail recogniser validates domains with ``tldextract``, which downloads the
public suffix list: ours does not. Payment cards and IBANs use presidio's recognisers (Luhn,
the IBAN checksum). Phone numbers are validated by python-phonenumbers, as presidio's
``PhoneRecognizer`` does, but only on candidate digit runs (ten times faster). This module adds
e-mail, mainland China mobiles, mainland China resident ID numbers (checksum and birth date
verified) and API keys and secrets.

Only this module and ``redaction`` import presidio (slow to import: keep it off start-up paths).
"""

from __future__ import annotations

import re
from typing import Any

from presidio_analyzer import EntityRecognizer, LocalRecognizer, RecognizerResult

from governance.pii_rules import (
    CN_MOBILE_RULES,
    CN_RESIDENT_ID_RULES,
    EMAIL_RULES,
    SECRET_RULES,
    Rule,
    spans,
)


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
        results = [
            RecognizerResult(
                entity_type=self.supported_entities[0],
                start=start,
                end=end,
                score=score,
                recognition_metadata={
                    RecognizerResult.RECOGNIZER_NAME_KEY: self.label,
                    RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                },
            )
            for start, end, score in spans(text, self.rules)
        ]
        return list(EntityRecognizer.remove_duplicates(results))


# A run of digits, spaces, dots, dashes and brackets that could be a phone number; only these
# candidates go to python-phonenumbers, whose matcher run over a whole text once per region
# is slow enough to show in the gateway's tail latency.
_PHONE_CANDIDATE = re.compile(r"(?<![\w+./-])(?:\+|00)?\(?\d[\d\s().-]{5,20}\d(?![\w/-])")
_DATE = re.compile(r"^\d{4}[-./]\d{1,2}[-./]\d{1,2}$|^\d{1,2}[-./]\d{1,2}[-./]\d{2,4}$")


class PhoneNumbersRecognizer(LocalRecognizer):  # type: ignore[misc]
    """Phone numbers validated by python-phonenumbers: international (+CC or 00CC) numbers
    for any country, national numbers for ``regions``."""

    def __init__(self, regions: tuple[str, ...], score: float = 0.6) -> None:
        self.regions = regions
        self.score = score
        super().__init__(supported_entities=["PHONE_NUMBER"], name="loregate_phone_numbers")

    def load(self) -> None:
        return None

    def _valid(self, candidate: str) -> bool:
        import phonenumbers

        digits = sum(c.isdigit() for c in candidate)
        if digits < 8 or _DATE.match(candidate.strip()):
            return False
        text = "+" + candidate.strip()[2:] if candidate.startswith("00") else candidate
        regions: tuple[str | None, ...] = (None,) if text.startswith("+") else self.regions
        for region in regions:
            try:
                number = phonenumbers.parse(text, region)
            except phonenumbers.NumberParseException:
                continue
            if phonenumbers.is_valid_number(number):
                return True
        return False

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: Any = None
    ) -> list[RecognizerResult]:
        return [
            RecognizerResult(
                entity_type="PHONE_NUMBER",
                start=m.start(),
                end=m.end(),
                score=self.score,
                recognition_metadata={
                    RecognizerResult.RECOGNIZER_NAME_KEY: "loregate_phone_numbers",
                    RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                },
            )
            for m in _PHONE_CANDIDATE.finditer(text)
            if self._valid(m.group())
        ]


def build_recognizers(phone_regions: tuple[str, ...]) -> list[Any]:
    from presidio_analyzer.predefined_recognizers import CreditCardRecognizer, IbanRecognizer

    return [
        RegexRecognizer("EMAIL_ADDRESS", EMAIL_RULES),
        RegexRecognizer("PHONE_NUMBER", CN_MOBILE_RULES),
        RegexRecognizer("CN_RESIDENT_ID", CN_RESIDENT_ID_RULES),
        RegexRecognizer("SECRET", SECRET_RULES),
        PhoneNumbersRecognizer(phone_regions),
        CreditCardRecognizer(),
        IbanRecognizer(),
    ]
