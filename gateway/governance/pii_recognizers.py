"""Our rules (``pii_rules``) as presidio recognisers, next to presidio's own ones.

presidio's own e-mail recogniser validates domains with ``tldextract``, which downloads the
public suffix list: ours does not. Phone numbers, payment cards and IBANs use presidio's
recognisers (python-phonenumbers, Luhn and the IBAN checksum); this module adds e-mail,
mainland China mobile numbers, mainland China resident ID numbers (checksum and birth date
verified) and API keys and secrets.

Only this module and ``redaction`` import presidio (slow to import: keep it off start-up paths).
"""

from __future__ import annotations

from typing import Any

from presidio_analyzer import EntityRecognizer, LocalRecognizer, RecognizerResult

from gateway.governance.pii_rules import (
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
