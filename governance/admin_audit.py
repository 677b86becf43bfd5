"""Admin changes on the audit chain: who created, changed or removed a budget, a rate limit,
a key or a prompt activation, and to what.

A change is one record, appended at once (changes are rare; the request path's batched writer
is not needed), in the shape ``loregate audit list`` reads: ``source`` "admin", the principal,
``route`` "-" and ``outcome`` "ok", plus ``action``, ``target`` and ``detail``. It holds no model
request, so it cannot be replayed.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from governance.audit import AuditEntry, AuditLog
from kernel.principal import Principal

SOURCE = "admin"
PLAIN = (str, int, float, bool, type(None))  # kept as they are; anything else as its text


def record_change(
    audit: AuditLog,
    who: Principal,
    action: str,
    target: str,
    **detail: Any,
) -> int:
    """Append the change; its sequence number."""
    request_id = f"admin-{uuid.uuid4().hex}"
    now = datetime.now(UTC)
    payload = {
        "request_id": request_id,
        "time": now.isoformat(),
        "source": SOURCE,
        "principal": {
            "user": who.user_id,
            "department": who.department,
            "project": who.project,
            "key_id": who.key_id,
            "role": who.role.value,
        },
        "route": "-",
        "outcome": "ok",
        "action": action,
        "target": target,
        "detail": {
            k: v if isinstance(v, str | int | float | bool | None) else str(v)
            for k, v in detail.items()
        },
    }
    return audit.append([(request_id, now, payload)])[0]


def recent_changes(audit: AuditLog, limit: int = 20, scan: int = 2000) -> list[AuditEntry]:
    """The latest admin changes among the last ``scan`` records, newest first."""
    return [e for e in audit.recent(scan) if e.record.get("source") == SOURCE][:limit]
