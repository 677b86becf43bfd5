"""Who may see and call which MCP tool: grants per key, department or project, deny by default.

A grant names a scope (``key``, ``department`` or ``project``), its subject (a key id, a
department, a project), an upstream server and a tool (or ``*``: every tool of that server).
A grant covers the server's read tools; ``write`` extends it to its write tools, which are never
reachable otherwise (no write access for convenience). A caller with no grant sees no upstream
tool at all. Grants live in SQL, cached for a few seconds (a change made on one replica holds on
every other within the cache time).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import Connection, delete, select

from governance.sql_rules import SqlRules
from governance.tables import tool_grants
from kernel.errors import InvalidRequest, NotFound
from kernel.principal import Principal

GrantScope = Literal["key", "department", "project"]
GRANT_SCOPES: tuple[GrantScope, ...] = ("key", "department", "project")
EVERY_TOOL = "*"
ToolKind = Literal["read", "write"]
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")


@dataclass(frozen=True)
class Grant:
    scope: GrantScope
    subject: str
    server: str
    tool: str
    write: bool
    granted_by: str = ""

    def as_dict(self) -> dict[str, object]:
        return {
            "scope": self.scope,
            "subject": self.subject,
            "server": self.server,
            "tool": self.tool,
            "write": self.write,
            "granted_by": self.granted_by,
        }


def check_scope(scope: str) -> GrantScope:
    if scope not in GRANT_SCOPES:
        raise InvalidRequest(f"unknown grant scope {scope!r} (one of: {', '.join(GRANT_SCOPES)})")
    return scope  # type: ignore[return-value]


def _check_name(value: str, what: str, wildcard: bool = False) -> str:
    if wildcard and value == EVERY_TOOL:
        return value
    if not _NAME.match(value):
        raise InvalidRequest(f"{what} {value!r}: 1-128 letters, digits, '_', '.' or '-'")
    return value


class ToolGrants(SqlRules[list[Grant]]):
    def _read(self, conn: Connection) -> list[Grant]:
        t = tool_grants
        return [
            Grant(r.scope, r.subject, r.server, r.tool, bool(r.write), r.granted_by)
            for r in conn.execute(select(t).order_by(t.c.server, t.c.scope, t.c.subject, t.c.tool))
        ]

    def grant(
        self,
        scope: str,
        subject: str,
        server: str,
        tool: str = EVERY_TOOL,
        *,
        write: bool = False,
        by: str = "",
    ) -> Grant:
        """Create or replace the grant of (scope, subject, server, tool)."""
        found = Grant(
            check_scope(scope),
            _check_name(subject, "subject"),
            _check_name(server, "server"),
            _check_name(tool, "tool", wildcard=True),
            write,
            by,
        )
        key = {"scope": found.scope, "subject": subject, "server": server, "tool": tool}
        self._upsert(
            tool_grants, key, {"write": write, "granted_by": by, "updated_at": datetime.now(UTC)}
        )
        return found

    def revoke(self, scope: str, subject: str, server: str, tool: str = EVERY_TOOL) -> None:
        t = tool_grants
        with self.engine.begin() as conn:
            gone = conn.execute(
                delete(t).where(
                    t.c.scope == check_scope(scope),
                    t.c.subject == subject,
                    t.c.server == server,
                    t.c.tool == tool,
                )
            ).rowcount
        self.invalidate()
        if not gone:
            raise NotFound(f"no grant of {server}/{tool} to {scope} {subject!r}")

    def of(self, principal: Principal) -> list[Grant]:
        """The grants that apply to ``principal`` (its key, department and project)."""
        mine = {
            ("key", principal.key_id),
            ("department", principal.department),
            ("project", principal.project),
        }
        return [g for g in self.all() if (g.scope, g.subject) in mine and g.subject]

    def allows(self, principal: Principal, server: str, tool: str, kind: ToolKind) -> bool:
        """May ``principal`` see and call ``tool`` of ``server`` (of the given kind)?"""
        return any(
            g.server == server and g.tool in (tool, EVERY_TOOL) and (kind == "read" or g.write)
            for g in self.of(principal)
        )
