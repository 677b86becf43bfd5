"""Ticket exports: JSON (a list, or {"tickets": [...]}), NDJSON (one ticket a line) and CSV
(one ticket a row, or one message a row grouped by ticket id).

Field names are matched case-insensitively among common spellings:

    id        id, ticket_id, ticket, key, number
    subject   subject, title, summary            (default: the first words of the thread)
    status, priority, product
    customer  customer, requester, customer_name, account, organization, company
    messages  messages, comments, conversation, thread, replies   (a list of objects)
      author  author, from, sender, user, name, agent
      time    time, created_at, timestamp, date, sent_at, created
      text    body, text, message, content, comment
    text      description, body, text, message, content   (a first message, or the only one)
    tags      tags, labels  (a list, or a string split on , ; |)
    updated   updated_at, updated, modified, last_updated, created_at, created
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ingest.errors import FileRejected

ID = ("id", "ticket_id", "ticket", "key", "number")
SUBJECT = ("subject", "title", "summary")
CUSTOMER = ("customer", "requester", "customer_name", "account", "organization", "company")
MESSAGES = ("messages", "comments", "conversation", "thread", "replies")
AUTHOR = ("author", "from", "sender", "user", "name", "agent")
TIME = ("time", "created_at", "timestamp", "date", "sent_at", "created")
BODY = ("body", "text", "message", "content", "comment")
DESCRIPTION = ("description", "body", "text", "message", "content")
TAGS = ("tags", "labels")
UPDATED = ("updated_at", "updated", "modified", "last_updated", "created_at", "created")


@dataclass(frozen=True)
class Message:
    author: str
    time: str
    text: str


@dataclass
class Ticket:
    id: str
    subject: str
    status: str = ""
    priority: str = ""
    product: str = ""
    customer: str = ""
    tags: tuple[str, ...] = ()
    updated_at: float | None = None
    messages: list[Message] = field(default_factory=list)

    def canonical(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "subject": self.subject,
            "status": self.status,
            "priority": self.priority,
            "product": self.product,
            "customer": self.customer,
            "tags": list(self.tags),
            "messages": [m.__dict__ for m in self.messages],
        }


def _get(obj: Mapping[str, Any], names: Iterable[str]) -> Any:
    lowered = {str(k).strip().lower(): v for k, v in obj.items()}
    for name in names:
        value = lowered.get(name)
        if value not in (None, ""):
            return value
    return None


def _str(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _epoch(value: Any) -> float | None:
    if value in (None, ""):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return datetime.fromisoformat(str(value).strip().replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _tags(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, list | tuple):
        return tuple(_str(v) for v in value if _str(v))
    parts = str(value).replace(";", ",").replace("|", ",").split(",")
    return tuple(p.strip() for p in parts if p.strip())


def ticket_from(obj: Any, where: str) -> Ticket:
    if not isinstance(obj, Mapping):
        raise FileRejected("bad_ticket_export", f"{where}: a ticket must be an object")
    ticket_id = _str(_get(obj, ID))
    if not ticket_id:
        raise FileRejected("bad_ticket_export", f"{where}: ticket without an id ({', '.join(ID)})")
    messages: list[Message] = []
    description = _get(obj, DESCRIPTION)
    raw_messages = _get(obj, MESSAGES)
    if isinstance(raw_messages, list):
        for n, m in enumerate(raw_messages, start=1):
            if isinstance(m, str):
                messages.append(Message("", "", m.strip()))
                continue
            if not isinstance(m, Mapping):
                raise FileRejected("bad_ticket_export", f"{where}: message {n} is not an object")
            text = _str(_get(m, BODY))
            if text:
                messages.append(Message(_str(_get(m, AUTHOR)), _str(_get(m, TIME)), text))
    if description and not (messages and messages[0].text == _str(description)):
        author = _str(_get(obj, CUSTOMER)) or "customer"
        messages.insert(0, Message(author, _str(_get(obj, TIME)), _str(description)))
    if not messages:
        raise FileRejected("bad_ticket_export", f"{where}: ticket {ticket_id} has no text")
    subject = _str(_get(obj, SUBJECT)) or _first_words(messages[0].text)
    return Ticket(
        id=ticket_id,
        subject=subject,
        status=_str(obj.get("status") or _get(obj, ("status", "state"))),
        priority=_str(_get(obj, ("priority", "severity"))),
        product=_str(_get(obj, ("product", "component"))),
        customer=_str(_get(obj, CUSTOMER)),
        tags=_tags(_get(obj, TAGS)),
        updated_at=_epoch(_get(obj, UPDATED)),
        messages=messages,
    )


def _first_words(text: str, n: int = 10) -> str:
    words = text.split()
    return " ".join(words[:n]) + (" ..." if len(words) > n else "")


def parse_json(text: str) -> list[Ticket]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FileRejected("bad_ticket_export", f"invalid JSON: {exc}") from None
    if isinstance(data, Mapping):
        items = _get(data, ("tickets", "data", "items", "results"))
        if items is None and _get(data, ID) is not None:
            items = [data]
        data = items
    if not isinstance(data, list):
        raise FileRejected(
            "bad_ticket_export",
            'JSON is not a ticket export: expected a list of tickets or {"tickets": [...]}',
        )
    return _unique([ticket_from(t, f"ticket {n}") for n, t in enumerate(data, start=1)])


def parse_ndjson(text: str) -> list[Ticket]:
    tickets = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise FileRejected("bad_ticket_export", f"line {n} is not valid JSON: {exc}") from None
        tickets.append(ticket_from(obj, f"line {n}"))
    return _unique(tickets)


def parse_csv(text: str) -> list[Ticket]:
    reader = csv.DictReader(io.StringIO(text))
    columns = {c.strip().lower() for c in reader.fieldnames or []}
    if not columns & set(ID):
        raise FileRejected("bad_ticket_export", f"CSV has no ticket id column ({', '.join(ID)})")
    rows = list(reader)
    per_message = bool(columns & set(AUTHOR)) and bool(columns & set(BODY))
    if not per_message:
        return _unique([ticket_from(r, f"row {n}") for n, r in enumerate(rows, start=2)])
    grouped: dict[str, dict[str, Any]] = {}
    for n, row in enumerate(rows, start=2):
        tid = _str(_get(row, ID))
        if not tid:
            raise FileRejected("bad_ticket_export", f"row {n}: no ticket id")
        entry = grouped.setdefault(tid, {**row, "messages": []})
        for key in ("status", "priority"):  # the last row holds the latest state
            if _str(row.get(key)):
                entry[key] = row[key]
        entry["messages"].append(
            {"author": _get(row, AUTHOR), "time": _get(row, TIME), "body": _get(row, BODY)}
        )
    return [
        ticket_from({k: v for k, v in e.items() if k.lower() not in BODY}, f"ticket {t}")
        for t, e in grouped.items()
    ]


def looks_like_tickets(kind: str, text: str) -> bool:
    """Cheap check used to infer doc_type for .json/.ndjson/.csv files without a manifest."""
    head = text[:4096].lower()
    if kind == "csv":
        first = head.splitlines()[0] if head else ""
        cols = {c.strip().strip('"') for c in first.split(",")}
        return bool(cols & set(ID)) and bool(cols & (set(DESCRIPTION) | set(SUBJECT) | set(BODY)))
    return any(f'"{k}"' in head for k in ID) and any(
        f'"{k}"' in head for k in (*SUBJECT, *MESSAGES, *DESCRIPTION)
    )


def _unique(tickets: list[Ticket]) -> list[Ticket]:
    seen: dict[str, Ticket] = {}
    for t in tickets:
        if t.id in seen:
            raise FileRejected("bad_ticket_export", f"ticket id {t.id} appears twice")
        seen[t.id] = t
    return tickets


PARSERS = {"json": parse_json, "ndjson": parse_ndjson, "csv": parse_csv}
