"""Administration of the tool gateway over HTTP (admin keys):

    GET    /admin/mcp/servers              configured upstreams and their circuits
    GET    /admin/mcp/grants               every grant
    PUT    /admin/mcp/grants               {"scope", "subject", "server", "tool"?, "write"?}
    DELETE /admin/mcp/grants               the same body without "write"
    GET    /admin/mcp/can-see?key_id=      the tools that key would list (a dry run)

Grant changes go on the audit chain (``governance.admin_audit``), as budget and key changes do.
"""

# No ``from __future__ import annotations``: FastAPI reads the routes' annotations.

from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from governance.admin_audit import record_change
from governance.parts import GovernanceParts
from governance.tool_grants import EVERY_TOOL
from kernel.auth import Authenticate, requires
from kernel.principal import Principal, Role
from loregate.mcp_endpoint import ToolGateway
from loregate.mcp_knowledge import TOOLS


class GrantBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scope: str = Field(pattern="^(key|department|project)$")
    subject: str = Field(min_length=1, max_length=128)
    server: str = Field(min_length=1, max_length=64)
    tool: str = Field(default=EVERY_TOOL, min_length=1, max_length=128)
    write: bool = False


async def can_see(gateway: ToolGateway, principal: Principal) -> list[dict[str, str]]:
    """What ``principal``'s ``tools/list`` would hold: loregate's tools and its granted ones."""
    own = [{"name": t.name, "server": "loregate", "kind": "read"} for t in TOOLS]
    granted = await gateway.visible(principal)
    return own + [{"name": t.qualified, "server": t.server, "kind": t.kind} for t in granted]


def mcp_admin_router(gateway: ToolGateway, parts: GovernanceParts, auth: Authenticate) -> APIRouter:
    admin = requires(auth, Role.ADMIN)
    router = APIRouter(prefix="/admin/mcp", tags=["admin"])
    grants = gateway.grants

    @router.get("/servers", summary="Upstream MCP servers and their circuits")
    def servers(_: Principal = Depends(admin)) -> dict[str, Any]:  # noqa: B008
        ups = gateway.upstreams
        if ups is None:
            return {"servers": []}
        states = ups.states()
        return {
            "servers": [
                {
                    "name": s.name,
                    "transport": "http" if s.url else "stdio",
                    "credential": s.credential,
                    "circuit": states.get(s.name, "closed"),
                }
                for s in ups.specs.values()
            ]
        }

    @router.get("/grants", summary="Every tool grant")
    def list_grants(_: Principal = Depends(admin)) -> dict[str, Any]:  # noqa: B008
        return {"grants": [g.as_dict() for g in grants.all()]}

    @router.put("/grants", summary="Grant a server's tool (or every tool) to a scope")
    def grant(body: GrantBody, who: Principal = Depends(admin)) -> dict[str, Any]:  # noqa: B008
        made = grants.grant(
            body.scope,
            body.subject,
            body.server,
            body.tool,
            write=body.write,
            by=who.key_id or who.user_id,
        )
        record_change(
            parts.audit, who, "mcp.grant", f"{body.scope}:{body.subject}", **made.as_dict()
        )
        return made.as_dict()

    @router.delete("/grants", summary="Revoke a grant")
    def revoke(body: GrantBody, who: Principal = Depends(admin)) -> dict[str, Any]:  # noqa: B008
        grants.revoke(body.scope, body.subject, body.server, body.tool)
        target = f"{body.scope}:{body.subject}"
        record_change(parts.audit, who, "mcp.revoke", target, server=body.server, tool=body.tool)
        return {"revoked": body.model_dump(exclude={"write"})}

    @router.get("/can-see", summary="The tools a key would list (dry run)")
    async def dry_run(key_id: str, _: Principal = Depends(admin)) -> dict[str, Any]:  # noqa: B008
        principal = parts.keys.get(key_id).principal()
        return {"key_id": key_id, "tools": await can_see(gateway, principal)}

    return router
