"""The tool gateway's upstream client against `@modelcontextprotocol/server-everything` from
the npm registry over stdio (scripts/install_mcp_servers.sh): tool classes from the server's
annotations, per-user credentials that never cross users, a timeout and the circuit breaker."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway.config import BreakerPolicy
from gateway.mcp_config import UpstreamSpec, load_upstreams
from gateway.mcp_upstream import Upstreams
from kernel.errors import CircuitOpen, ConfigError, PermissionDenied, ProviderError
from tests.conftest import ROOT

pytestmark = pytest.mark.anyio
EVERYTHING = ROOT / ".tools/mcp-servers/node_modules/.bin/mcp-server-everything"
needs_npm_server = pytest.mark.skipif(
    not EVERYTHING.exists(), reason="run scripts/install_mcp_servers.sh (needs npm)"
)


def spec(**values: object) -> UpstreamSpec:
    base: dict[str, object] = {"name": "everything", "command": str(EVERYTHING), "args": ["stdio"]}
    return UpstreamSpec.model_validate({**base, **values})


@needs_npm_server
async def test_per_user_credentials_never_cross_users() -> None:
    per_user = spec(credential="per_user", per_user_env={"UPSTREAM_TOKEN": "${TOKEN_{user}}"})
    environ = {"TOKEN_RITA": "rita-secret", "TOKEN_WALT_W": "walt-secret"}
    ups = Upstreams({"everything": per_user}, environ=environ)
    try:
        kinds = {t.name: t.kind for t in await ups.tools("everything", "rita")}
        assert kinds["echo"] == "read" and kinds["toggle-simulated-logging"] == "write"
        seen = {}
        for user in ("rita", "walt.w"):
            result = await ups.call("everything", "get-env", {}, user=user, kind="read")
            text = "".join(getattr(c, "text", "") for c in result.content)
            seen[user] = json.loads(text[text.index("{") :])["UPSTREAM_TOKEN"]
        assert seen == {"rita": "rita-secret", "walt.w": "walt-secret"}
        with pytest.raises(PermissionDenied, match="another user's"):
            await ups.call("everything", "get-env", {}, user="nora", kind="read")
    finally:
        await ups.aclose()


@needs_npm_server
async def test_a_broken_upstream_times_out_then_its_circuit_opens(tmp_path: Path) -> None:
    broken = spec(name="broken", command="/bin/sleep", args=["30"], timeout_s=0.5, read_retries=0)
    ups = Upstreams({"broken": broken}, breaker=BreakerPolicy(fail_max=2, reset_timeout_s=60))
    try:
        for _ in range(2):
            with pytest.raises(ProviderError, match=r"did not (start|answer)"):
                await ups.call("broken", "echo", {}, user="rita", kind="read")
        with pytest.raises(CircuitOpen):
            await ups.call("broken", "echo", {}, user="rita", kind="read")
    finally:
        await ups.aclose()


def test_the_servers_file_is_checked_with_clear_errors(tmp_path: Path) -> None:
    path = tmp_path / "mcp.toml"
    path.write_text('[[servers]]\nname = "git"\n')
    with pytest.raises(ConfigError, match="exactly one of `url`"):
        load_upstreams(path)
    path.write_text('[[servers]]\nname = "a"\nurl = "http://x/mcp"\n' * 2)
    with pytest.raises(ConfigError, match="unique"):
        load_upstreams(path)
    path.write_text('[[servers]]\nname = "a"\nurl = "http://x/mcp"\ncredential = "per_user"\n')
    with pytest.raises(ConfigError, match="per_user_env"):
        load_upstreams(path)
    path.write_text("[[servers]\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_upstreams(path)
    with pytest.raises(ConfigError, match="cannot read"):
        load_upstreams(tmp_path / "missing.toml")


@needs_npm_server
async def test_calls_per_minute_per_key_and_tool(tmp_path: Path) -> None:
    from governance.tool_grants import ToolGrants
    from kernel.errors import RateLimited
    from kernel.principal import Principal
    from loregate.mcp_endpoint import ToolGateway
    from loregate.mcp_knowledge import KnowledgeTools
    from tests.governance.helpers import migrated_engine

    engine = migrated_engine(f"sqlite:///{tmp_path / 'g.db'}")
    grants = ToolGrants(engine, cache_ttl_s=0)
    grants.grant("department", "eng", "everything")
    ups = Upstreams({"everything": spec(rpm_per_key=2)})
    unused = KnowledgeTools(lambda: None, lambda: None)  # type: ignore[arg-type, return-value]
    gateway = ToolGateway(unused, ups, grants, log=None)  # type: ignore[arg-type]
    rita = Principal(user_id="rita", department="eng", key_id="lg_rita")
    walt = Principal(user_id="walt", department="eng", key_id="lg_walt")
    try:
        assert await gateway._admit(rita, "everything", "echo") == "read"
        assert await gateway._admit(rita, "everything", "echo") == "read"
        with pytest.raises(RateLimited, match="2 calls per minute"):
            await gateway._admit(rita, "everything", "echo")
        assert await gateway._admit(rita, "everything", "get-sum") == "read"  # per tool
        assert await gateway._admit(walt, "everything", "echo") == "read"  # per key
    finally:
        await ups.aclose()
        engine.dispose()
