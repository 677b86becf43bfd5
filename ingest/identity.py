"""A document's identity, written into every one of its chunks.

Look-alike documents (a company's filings across quarters, contracts from one template, one
customer's tickets) differ in who and when, and their chunks rarely say it: "the Company",
"this quarter". Each chunk's header (dense text) and heading field (BM25) therefore carry the
document's identity: a usable title, the file's name where it says more than the title, and the
parties, companies and periods the document states near its start.

- A **usable title**: the extracted one, unless it is boilerplate ("UNITED STATES SECURITIES
  AND EXCHANGE COMMISSION", "Table of Contents", an all-capitals banner, no letters), then the
  file name's words.
- The **file name** beside a title that does not already say what it says (its distinctive
  words are the ones people search for: "Q3 2023", "acme-msa").
- **Stated facts**, found by generic patterns in the first pages, never by corpus-specific
  lists: companies and parties (names ending in Inc, Corp, Ltd, LLC, GmbH, ...), periods
  ("Q3 2023", "fiscal 2024", "three months ended June 30, 2023") and an effective date.
- The manifest's ``title`` and ``identity`` fields take precedence (``ingest.manifest``).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

HEAD_CHARS = 6_000  # the first pages: where documents state who and when
MAX_CHARS = 200  # the identity line's length (chunk headers are cut to 48 tokens anyway)

_BOILERPLATE = re.compile(
    r"^\s*(united\s*states|securities\s*and\s*exchange|form\s*\d|table\s+of\s+contents|"
    r"contents|untitled|document\s*\d*$|page\s+\d+|confidential|draft|transcript$|"
    r"microsoft\s+word|slide\s+\d+)",
    re.I,
)
_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_DATE = (
    rf"(?:{_MONTH}\s+\d{{1,2}},?\s+\d{{4}}|\d{{4}}-\d{{2}}-\d{{2}}|"
    rf"\d{{1,2}}\s+{_MONTH}\s+\d{{4}})"
)
_PERIODS = [
    re.compile(r"\bQ[1-4]\s*(?:FY\s*)?'?(?:19|20)?\d{2}\b", re.I),
    re.compile(r"\bFY\s*'?(?:19|20)?\d{2}\b", re.I),
    re.compile(
        r"\b(?:first|second|third|fourth)\s+(?:fiscal\s+)?quarter\s+(?:of\s+)?(?:fiscal\s+)?"
        r"(?:year\s+)?(?:19|20)\d{2}\b",
        re.I,
    ),
    re.compile(r"\bfiscal\s+(?:year\s+)?(?:19|20)\d{2}\b", re.I),
    re.compile(
        rf"\b(?:three|six|nine|twelve)\s+months\s+ended\s+{_DATE}|\b(?:quarter|year)\s+"
        rf"ended\s+{_DATE}",
        re.I,
    ),
]
_COMPANY = re.compile(
    r"\b((?:[A-Z][\w&'.-]*\s+){0,3}[A-Z][\w&'.-]*),?\s+"
    r"(Inc|Incorporated|Corp|Corporation|Ltd|Limited|LLC|L\.L\.C|LLP|PLC|plc|GmbH|AG|S\.A|"
    r"N\.V|B\.V|Co)\b\.?"
)
_EFFECTIVE = re.compile(rf"\beffective\s+(?:as\s+of\s+|date\s*:?\s*)?({_DATE})", re.I)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_WORD = re.compile(r"[A-Za-z0-9]+")
_STOP = {  # words that tell no document from another (articles, legal forms, file formats)
    *("the", "a", "an", "of", "and", "for", "to", "in", "inc", "corp", "ltd", "llc", "co"),
    *("pdf", "doc", "docx", "md", "html", "htm", "txt", "eml", "msg", "csv", "json", "xlsx"),
    *("final", "copy", "draft", "new", "old", "example", "sample", "test", "file", "document"),
}


def clean(text: str) -> str:
    return " ".join(_CONTROL.sub("", text).split())


def is_boilerplate(title: str) -> bool:
    """A title that names no document: a filing's banner, a table of contents, no letters."""
    t = clean(title)
    letters = sum(c.isalpha() for c in t)
    return letters < 3 or bool(_BOILERPLATE.match(t)) or (t.isupper() and len(t) > 40)


def file_title(rel: str) -> str:
    """``contracts/acme_msa-2024.pdf`` -> ``acme msa 2024``: the file name's words."""
    stem = rel.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    return clean(re.sub(r"[_]+|(?<=\w)-(?=\w)", " ", stem))


def _words(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text)} - _STOP


def _new(fact: str, said: str) -> bool:
    """Does ``fact`` add words that ``said`` does not already hold?"""
    return bool(_words(fact) - _words(said))


def _adds_to(named: str, said: str) -> bool:
    """Does the file name say more than the title: a number (a period, a version, a case
    number) or two words of its own? (``get-started.md`` beside "Getting started" does not.)"""
    new = _words(named) - _words(said)
    return any(w.isdigit() for w in new) or len(new) >= 2


def stated_facts(text: str) -> list[str]:
    """Companies or parties (the two named most), periods (the first two) and an effective
    date stated in ``text``'s first pages, in that order, each once."""
    head = clean(text[:HEAD_CHARS])
    companies = Counter(
        f"{m.group(1).strip()} {m.group(2)}"
        for m in _COMPANY.finditer(head)
        if not _BOILERPLATE.match(m.group(1))
    )
    facts = [name for name, _ in companies.most_common(2)]
    periods: list[str] = []
    for pattern in _PERIODS:
        periods += [clean(m.group(0)) for m in pattern.finditer(head)]
    facts += list(dict.fromkeys(periods))[:2]
    if m := _EFFECTIVE.search(head):
        facts.append(f"effective {clean(m.group(1))}")
    return list(dict.fromkeys(facts))


def identity_title(
    title: str,
    rel: str,
    text: str,
    *,
    manifest_title: str | None = None,
    manifest_facts: Sequence[str] = (),
) -> str:
    """The title every chunk of the document carries: usable title, then what the file name
    and the stated facts add to it, ``" · "``-separated and capped."""
    base = clean(manifest_title or "")
    named = file_title(rel) if rel else ""
    if not base:
        base = clean(title)
        if is_boilerplate(base):
            base = named or base
    parts = [base]
    if named and named != base and _adds_to(named, base):
        parts.append(named)
    for extra in [*manifest_facts, *stated_facts(text)]:
        extra = clean(extra)
        if extra and _new(extra, " ".join(parts)):
            parts.append(extra)
    line = " · ".join(p for p in parts if p)
    return line if len(line) <= MAX_CHARS else line[:MAX_CHARS].rsplit(" ", 1)[0] + " …"
