"""PII redaction: presidio's analyzer with an NLP engine that loads nothing, plus our recognisers.

``PiiRedactor.redact`` replaces every finding with a typed placeholder (``<EMAIL_ADDRESS>``,
``<PHONE_NUMBER>``, ``<CN_RESIDENT_ID>``, ``<CREDIT_CARD>``, ``<IBAN_CODE>``, ``<SECRET>``).
It runs before anything is written to the audit log, the ledger, logs or the review queue, and
(with ``LOREGATE_REDACT_UPSTREAM=true``) on what is sent to a provider.

presidio's default ``AnalyzerEngine()`` would download a spaCy model; here it gets presidio's
``NoOpNlpEngine`` (no model, no tokens) and only regex/checksum recognisers, so it never
touches the network. Importing presidio takes seconds: the engine is built on first use (or by
``warm_up`` in a background thread at start-up), once per process.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from functools import lru_cache
from typing import Any, Protocol

from cachetools import LRUCache

from gateway.hooks import RequestFacts
from gateway.ledger.writer import LedgerSink
from governance.pii_rules import merge, possible_entities, quick_redact, replace_spans

DEFAULT_PHONE_REGIONS = ("US", "GB", "DE", "FR", "CN", "IN", "JP", "AU", "CA", "SG", "HK")

# JSON keys whose string values are structure, not content (kept as they are).
STRUCTURAL_KEYS = frozenset(
    {
        "type",
        "role",
        "model",
        "model_id",
        "stop_reason",
        "media_type",
        "id",
        "tool_use_id",
        "name",
        "cache_control",
        "ttl",
    }
)
MIN_LENGTH = 6  # nothing we look for is shorter ("a@b.cn")
# Redactions remembered, by text: a coding agent sends its whole conversation on every turn
# (its system prompt, its tools' schemas, every message so far), so without them each turn
# re-analysed all of it (about 5 ms of the audit process's CPU for a 110 KB turn, growing with
# the session); with them a turn costs what is new in it. Bounded by the characters held (each
# redaction is about as long again); a text under ``CACHE_MIN`` is looked at faster than up.
CACHE_MIN = 32
MEMO_CHARS = 32 * 1024 * 1024


@lru_cache(maxsize=4)
def _engine(phone_regions: tuple[str, ...]) -> Any:
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.nlp_engine import NoOpNlpEngine

    from governance.pii_recognizers import build_recognizers

    registry = RecognizerRegistry(
        recognizers=build_recognizers(phone_regions), supported_languages=["en"]
    )
    nlp = NoOpNlpEngine(models=[{"lang_code": "en", "model_name": "none"}])
    return AnalyzerEngine(registry=registry, nlp_engine=nlp, supported_languages=["en"])


class PiiRedactor:
    """Implements ``governance.prompt_types.Redactor``."""

    def __init__(
        self,
        *,
        phone_regions: tuple[str, ...] = DEFAULT_PHONE_REGIONS,
        score_threshold: float = 0.35,
        memo_chars: int = MEMO_CHARS,
    ) -> None:
        self.phone_regions = phone_regions
        self.score_threshold = score_threshold
        self._lock = threading.Lock()
        self._analyzer: Any = None
        # the characters of redacted text remembered; one text at most an eighth of them
        self._memo: LRUCache[str, str] = LRUCache(maxsize=memo_chars, getsizeof=len)
        self._memo_max = memo_chars // 8
        self._memo_lock = threading.Lock()  # cachetools' caches are not thread-safe

    @property
    def analyzer(self) -> Any:
        if self._analyzer is None:
            with self._lock:
                if self._analyzer is None:
                    self._analyzer = _engine(self.phone_regions)
        return self._analyzer

    def warm_up(self) -> threading.Thread:
        """Build the engine in a background thread (presidio's import is slow)."""
        thread = threading.Thread(
            target=lambda: self.analyzer, name="loregate-redactor-warmup", daemon=True
        )
        thread.start()
        return thread

    def findings(self, text: str) -> list[tuple[str, int, int]]:
        """(entity type, start, end) of everything found, overlaps merged, in order."""
        if len(text) < MIN_LENGTH:
            return []
        entities = possible_entities(text)
        if not entities:
            return []
        results = self.analyzer.analyze(
            text=text, language="en", entities=entities, score_threshold=self.score_threshold
        )
        return merge([(r.start, r.end, r.score, r.entity_type) for r in results])

    @property
    def ready(self) -> bool:
        """Whether the presidio engine is loaded (``redact`` will not wait)."""
        return self._analyzer is not None

    def redact_nowait(self, text: str) -> str:
        """``redact`` once the engine is loaded; until then the regex rules alone (never
        blocks: for log records and other text on the event loop's path)."""
        return self.redact(text) if self.ready else quick_redact(text)

    def redact(self, text: str) -> str:
        if not CACHE_MIN <= len(text) <= self._memo_max:
            return self._redact(text)
        with self._memo_lock:
            done = self._memo.get(text)
        if done is None:
            done = self._redact(text)
            with self._memo_lock:
                self._memo[text] = done
        return done

    def _redact(self, text: str) -> str:
        found = self.findings(text)
        return replace_spans(text, found) if found else text

    def redact_json(self, value: Any, key: str | None = None) -> Any:
        """``value`` with every content string redacted (structure kept)."""
        if isinstance(value, str):
            return value if key in STRUCTURAL_KEYS else self.redact(value)
        if isinstance(value, dict):
            if value.get("type") == "base64" and isinstance(value.get("data"), str):
                return {**value, "data": f"<base64 {len(value['data'])} chars removed>"}
            return {k: self.redact_json(v, k) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.redact_json(v, key) for v in value]
        return value


class Redaction(Protocol):
    """Everything loregate redacts with: text, text on the event loop's path (never waits for
    presidio), and JSON bodies. ``PiiRedactor`` and ``NullRedactor`` implement it."""

    def redact(self, text: str) -> str: ...

    def redact_nowait(self, text: str) -> str: ...

    def redact_json(self, value: Any, key: str | None = None) -> Any: ...


class NullRedactor:
    """Redacts nothing (only for tests that are not about redaction)."""

    def redact(self, text: str) -> str:
        return text

    def redact_nowait(self, text: str) -> str:
        return text

    def redact_json(self, value: Any, key: str | None = None) -> Any:
        return value


class RedactingLedger:
    """A ``LedgerSink`` that redacts the ledger's only free text (escalation and downgrade
    reasons) before passing a request's facts on; every other column is an id, a code or a
    number. It never waits for presidio (``redact_nowait``): it runs on the request's path."""

    def __init__(self, inner: LedgerSink, redactor: Redaction) -> None:
        self.inner = inner
        self.redactor = redactor

    def record(self, facts: RequestFacts) -> None:
        red = self.redactor.redact_nowait
        if facts.downgraded_reason or any(a.escalation_reason for a in facts.attempts):
            facts = replace(
                facts,
                attempts=[
                    replace(a, escalation_reason=red(a.escalation_reason))
                    if a.escalation_reason
                    else a
                    for a in facts.attempts
                ],
                downgraded_reason=(
                    red(facts.downgraded_reason) if facts.downgraded_reason else None
                ),
            )
        self.inner.record(facts)

    async def aclose(self) -> None:
        await self.inner.aclose()
