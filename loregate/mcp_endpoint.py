"""loregate's MCP endpoint (streamable HTTP at ``/mcp``): its own knowledge tools, and the tool
gateway in front of the upstream MCP servers of ``LOREGATE_MCP_SERVERS``.

Authenticated with loregate keys (``Authorization: Bearer <key>``) through the SDK's token
verifier, with protected-resource metadata. ``tools/list`` is the caller's own: loregate's
tools, then exactly the upstream tools granted to their key, department or project
(``governance.tool_grants``); a denied tool is absent, and a call to one is refused and audited.
Every call is on the hash-chained audit log (arguments and result PII-redacted and capped) and
in the metrics; a client that sends ``X-Loregate-Request-Id`` (the model call that asked for
the tool) has it recorded beside the call.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import anyio
import mcp_types
from limits import RateLimitItemPerMinute
from limits.aio.strategies import FixedWindowRateLimiter
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel import Server
from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette

from gateway.mcp_config import SEPARATOR, ToolKind
from gateway.mcp_upstream import Upstreams, UpstreamTool
from governance.keys import KeyStore
from governance.ratelimit import make_storage
from governance.tool_grants import ToolGrants
from kernel.errors import ApiError, AuthenticationError, PermissionDenied, RateLimited
from kernel.principal import Principal
from loregate import __version__
from loregate.mcp_audit import ToolCallLog
from loregate.mcp_knowledge import NAMES, TOOLS, KnowledgeTools, text_result

LINK_HEADER = "x-loregate-request-id"
SERVER = "loregate"  # the server name of loregate's own tools in the audit and metrics


class KeyVerifier:
    """The SDK's ``TokenVerifier`` on loregate keys."""

    def __init__(self, keys: KeyStore) -> None:
        self.keys = keys

    async def verify_token(self, token: str) -> AccessToken | None:
        principal = self.keys.cached(token)
        if principal is None:
            try:
                principal = await anyio.to_thread.run_sync(self.keys.lookup, token)
            except AuthenticationError:
                return None
        return AccessToken(
            token=token,
            client_id=principal.key_id or principal.user_id,
            scopes=[],
            subject=principal.user_id,
            claims={"principal": principal.model_dump(mode="json")},
        )


def caller() -> Principal:
    token = get_access_token()
    if token is None or not token.claims:
        raise AuthenticationError("an API key is required: `Authorization: Bearer <key>`")
    return Principal.model_validate(token.claims["principal"])


class ToolGateway:
    """The handlers of ``tools/list`` and ``tools/call``."""

    def __init__(
        self,
        knowledge: KnowledgeTools,
        upstreams: Upstreams | None,
        grants: ToolGrants,
        log: ToolCallLog,
        redis_url: str | None = None,
    ) -> None:
        self.knowledge = knowledge
        self.upstreams = upstreams
        self.grants = grants
        self.log = log
        self.limiter = FixedWindowRateLimiter(make_storage(redis_url))

    async def visible(self, principal: Principal) -> list[UpstreamTool]:
        """The upstream tools ``principal`` may see (none without a grant)."""
        if self.upstreams is None:
            return []
        servers = {g.server for g in self.grants.of(principal)} & set(self.upstreams.specs)
        out: list[UpstreamTool] = []
        for server in sorted(servers):
            try:
                tools = await self.upstreams.tools(server, principal.user_id)
            except (ApiError, OSError):
                continue  # an upstream that is down lists nothing; its calls say why
            out += [t for t in tools if self.grants.allows(principal, server, t.name, t.kind)]
        return out

    async def list_tools(
        self, ctx: ServerRequestContext[Any], params: mcp_types.PaginatedRequestParams | None
    ) -> mcp_types.ListToolsResult:
        mine = await self.visible(caller())
        upstream = [t.tool.model_copy(update={"name": t.qualified}) for t in mine]
        return mcp_types.ListToolsResult(tools=[*TOOLS, *upstream])

    async def call_tool(
        self, ctx: ServerRequestContext[Any], params: mcp_types.CallToolRequestParams
    ) -> mcp_types.CallToolResult:
        principal = caller()
        name, arguments = params.name, dict(params.arguments or {})
        request = getattr(ctx, "request", None)
        headers = getattr(request, "headers", {}) or {}
        linked = headers.get(LINK_HEADER) if hasattr(headers, "get") else None
        request_id = f"mcp-{uuid.uuid4().hex}"
        server, _, tool = name.partition(SEPARATOR)
        if name in NAMES:
            server, tool = SERVER, name
        started = time.perf_counter()
        kind: ToolKind = "read"
        outcome, result = "ok", None
        try:
            if server == SERVER:
                value = await self.knowledge.handler(tool)(arguments, principal, request_id)
                result = text_result(value)
            else:
                kind = await self._admit(principal, server, tool)
                assert self.upstreams is not None
                result = await self.upstreams.call(
                    server, tool, arguments, user=principal.user_id, kind=kind
                )
                outcome = "error" if result.is_error else "ok"
        except PermissionDenied as exc:
            outcome, result = "denied", text_result(exc.to_dict(), error=True)
        except RateLimited as exc:
            outcome, result = "rate_limited", text_result(exc.to_dict(), error=True)
        except ApiError as exc:
            outcome, result = "error", text_result(exc.to_dict(), error=True)
        seconds = time.perf_counter() - started
        self.log.record(
            request_id=request_id,
            principal=principal,
            server=server,
            tool=tool or name,
            kind=kind,
            arguments=arguments,
            result=result.model_dump(mode="json", exclude_none=True),
            outcome=outcome,
            seconds=seconds,
            linked_request_id=linked,
        )
        return result

    async def _admit(self, principal: Principal, server: str, tool: str) -> ToolKind:
        """The tool's class if ``principal`` may call it; else ``PermissionDenied``."""
        if self.upstreams is None or server not in self.upstreams.specs or not tool:
            raise PermissionDenied(f"no tool named {server + SEPARATOR + tool!r} is granted to you")
        known = {t.name: t for t in await self.visible(principal) if t.server == server}
        if tool not in known:
            raise PermissionDenied(
                f"the tool {tool!r} of MCP server {server!r} is not granted to you "
                "(write tools need a write grant)"
            )
        rpm = self.upstreams.spec(server).rpm_per_key
        if rpm is not None:
            item = RateLimitItemPerMinute(rpm)
            ids = ("mcp", principal.key_id or principal.user_id, server, tool)
            if not await self.limiter.hit(item, *ids):
                raise RateLimited(
                    f"rate limit of {rpm} calls per minute of {server}{SEPARATOR}{tool} reached",
                    retry_after=60.0,
                    details={"server": server, "tool": tool, "limit_per_minute": rpm},
                )
        return known[tool].kind


def build_mcp_app(
    gateway: ToolGateway,
    keys: KeyStore,
    *,
    public_url: str,
) -> tuple[Starlette, Callable[[], Any]]:
    """The endpoint's Starlette app (routes ``/mcp`` and its protected-resource metadata) and
    the session manager's ``run`` (the app's lifespan enters it)."""
    server: Server[Any] = Server(
        "loregate",
        version=__version__,
        instructions=(
            "loregate: search and cited answers over the company documents you may read, and "
            "the MCP tools granted to your key."
        ),
        on_list_tools=gateway.list_tools,
        on_call_tool=gateway.call_tool,
    )
    url = public_url.rstrip("/") + "/mcp"
    app = server.streamable_http_app(
        streamable_http_path="/mcp",
        stateless_http=True,
        json_response=True,
        # Every request carries a loregate key, so DNS rebinding cannot borrow a browser's
        # ambient credentials; hosts are not pinned (the server runs behind any name).
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        auth=AuthSettings(
            issuer_url=public_url,  # type: ignore[arg-type]
            resource_server_url=url,  # type: ignore[arg-type]
            validate_token_resource=False,
        ),
        token_verifier=KeyVerifier(keys),
    )
    return app, server.session_manager.run
