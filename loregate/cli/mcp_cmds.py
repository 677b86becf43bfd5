"""``loregate mcp``: the tool gateway's upstream servers, their tools, grants and a dry run.

loregate mcp servers                                  configured upstreams (LOREGATE_MCP_SERVERS)
loregate mcp tools [--server git]                     their tools and classes (read / write)
loregate mcp grants                                   every grant
loregate mcp grant --scope department --name eng --server git [--tool git_log] [--write]
loregate mcp revoke --scope department --name eng --server git [--tool git_log]
loregate mcp can-see --key lg_ab12cd34                what that key's tools/list would hold
"""

from __future__ import annotations

import getpass

import typer
from rich.table import Table

from governance.tool_grants import EVERY_TOOL
from loregate.cli.common import console, fail, friendly_errors, graph, run_async
from loregate.mcp_endpoint import ToolGateway

mcp_app = typer.Typer(help="The MCP tool gateway: servers, tools, grants.", no_args_is_help=True)


def _gateway() -> ToolGateway:
    from loregate.mcp_wiring import tool_gateway

    return tool_gateway(graph())


def _operator() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


def _audited(action: str, target: str, **detail: object) -> None:
    from governance.admin_audit import record_change
    from kernel.principal import Principal, Role

    who = Principal(user_id=_operator(), role=Role.ADMIN)
    record_change(graph().governance_parts.audit, who, action, target, **detail)


@mcp_app.command("servers")
@friendly_errors
def servers() -> None:
    """The upstream MCP servers of LOREGATE_MCP_SERVERS."""
    ups = _gateway().upstreams
    if ups is None:
        raise fail("no upstream MCP servers: set LOREGATE_MCP_SERVERS to a TOML file (docs/mcp.md)")
    table = Table("server", "transport", "target", "credential")
    for s in ups.specs.values():
        target = s.url or " ".join([s.command or "", *s.args])
        table.add_row(s.name, "http" if s.url else "stdio", target, s.credential)
    console.print(table)


@mcp_app.command("tools")
@friendly_errors
def tools(server: str = typer.Option(None, "--server", help="Only this server.")) -> None:
    """Each upstream's tools as loregate names them, with their class."""
    gateway = _gateway()
    ups = gateway.upstreams
    if ups is None:
        raise fail("no upstream MCP servers: set LOREGATE_MCP_SERVERS (docs/mcp.md)")
    names = [server] if server else sorted(ups.specs)

    async def listed() -> list[tuple[str, str, str]]:
        try:
            return [
                (t.qualified, t.kind, (t.tool.description or "").splitlines()[0][:80])
                for name in names
                for t in await ups.tools(name, _operator())
            ]
        finally:
            await ups.aclose()

    table = Table("tool", "class", "description")
    for row in run_async(listed()):
        table.add_row(*row)
    console.print(table)


@mcp_app.command("grants")
@friendly_errors
def grants() -> None:
    """Every grant (deny by default: a tool nobody was granted is nobody's)."""
    table = Table("scope", "name", "server", "tool", "write", "by")
    store = graph().governance_parts.grants
    assert store is not None
    for g in store.all():
        table.add_row(
            g.scope, g.subject, g.server, g.tool, "yes" if g.write else "no", g.granted_by
        )
    console.print(table)


@mcp_app.command("grant")
@friendly_errors
def grant(
    scope: str = typer.Option(..., "--scope", help="key | department | project."),
    name: str = typer.Option(..., "--name", help="The key id, department or project."),
    server: str = typer.Option(..., "--server"),
    tool: str = typer.Option(EVERY_TOOL, "--tool", help="One tool; default: every tool."),
    write: bool = typer.Option(False, "--write", help="Also the server's write tools."),
) -> None:
    """Grant a server's read tools (and with --write its write tools) to a scope."""
    store = graph().governance_parts.grants
    assert store is not None
    made = store.grant(scope, name, server, tool, write=write, by=_operator())
    _audited("mcp.grant", f"{scope}:{name}", **made.as_dict())
    console.print(
        f"granted {server}/{tool} ({'read and write' if write else 'read'}) to {scope} {name!r}"
    )


@mcp_app.command("revoke")
@friendly_errors
def revoke(
    scope: str = typer.Option(..., "--scope"),
    name: str = typer.Option(..., "--name"),
    server: str = typer.Option(..., "--server"),
    tool: str = typer.Option(EVERY_TOOL, "--tool"),
) -> None:
    """Revoke a grant."""
    store = graph().governance_parts.grants
    assert store is not None
    store.revoke(scope, name, server, tool)
    _audited("mcp.revoke", f"{scope}:{name}", server=server, tool=tool)
    console.print(f"revoked {server}/{tool} from {scope} {name!r}")


@mcp_app.command("can-see")
@friendly_errors
def can_see_cmd(key: str = typer.Option(..., "--key", help="The key's id (lg_...).")) -> None:
    """A dry run: the tools this key's tools/list would hold."""
    from loregate.mcp_admin import can_see

    gateway = _gateway()
    principal = graph().governance_parts.keys.get(key).principal()

    async def seen() -> list[dict[str, str]]:
        try:
            return await can_see(gateway, principal)
        finally:
            if gateway.upstreams is not None:
                await gateway.upstreams.aclose()

    table = Table("tool", "server", "class")
    for t in run_async(seen()):
        table.add_row(t["name"], t["server"], t["kind"])
    console.print(table)


app = typer.Typer()
app.add_typer(mcp_app, name="mcp")
