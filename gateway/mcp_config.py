"""The upstream MCP servers the tool gateway fronts, as declared in ``LOREGATE_MCP_SERVERS``.

A TOML file with one ``[[servers]]`` table per upstream::

    [[servers]]
    name = "git"                       # tools appear as git__<tool>
    command = "mcp-server-git"         # stdio: a command and its args ...
    args = ["--repository", "/srv/repo"]
    # url = "https://mcp.example.com/mcp"   # ... or streamable HTTP by URL
    credential = "shared"              # shared | per_user
    env = { GIT_TOKEN = "${GIT_SERVICE_TOKEN}" }        # shared: the service credential
    # per_user_env = { GIT_TOKEN = "${GIT_TOKEN_{user}}" }  # per_user: the caller's own
    # headers = { Authorization = "Bearer ${TICKETS_TOKEN}" }
    tools = { git_checkout = "write" } # override a tool's class (default: its readOnlyHint)
    timeout_s = 30
    read_retries = 1                   # reads are retried; writes never are
    rpm_per_key = 60                   # calls per minute per key and tool (unset: no limit)

Credentials are never stored: a value is literal text, ``${VAR}`` (an environment variable of
loregate's process) or ``file:/path`` (a file's content, trimmed). In ``per_user_env`` (and
``per_user_headers``), ``{user}`` stands for the caller's user id (upper-cased, non-alphanumerics
as ``_``): a caller without a credential of their own is refused, never served with another's.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from kernel.errors import ConfigError, PermissionDenied

ToolKind = Literal["read", "write"]
SEPARATOR = "__"  # loregate's name of an upstream tool: <server>__<tool>
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class UpstreamSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")
    url: str | None = None
    command: str | None = None
    args: list[str] = Field(default_factory=list)
    cwd: str | None = None
    credential: Literal["shared", "per_user"] = "shared"
    env: dict[str, str] = Field(default_factory=dict)
    headers: dict[str, str] = Field(default_factory=dict)
    per_user_env: dict[str, str] = Field(default_factory=dict)
    per_user_headers: dict[str, str] = Field(default_factory=dict)
    tools: dict[str, ToolKind] = Field(default_factory=dict)
    timeout_s: float = Field(default=30.0, gt=0)
    read_retries: int = Field(default=1, ge=0, le=5)
    rpm_per_key: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _one_transport(self) -> UpstreamSpec:
        if (self.url is None) == (self.command is None):
            raise ValueError("give exactly one of `url` (streamable HTTP) or `command` (stdio)")
        if self.credential == "per_user" and not (self.per_user_env or self.per_user_headers):
            raise ValueError("credential = 'per_user' needs per_user_env or per_user_headers")
        return self


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")
    servers: list[UpstreamSpec] = Field(default_factory=list)


def load_upstreams(path: Path) -> dict[str, UpstreamSpec]:
    """The servers of ``path`` by name; ``ConfigError`` naming the file and what is wrong."""
    where = f"LOREGATE_MCP_SERVERS ({path})"
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read it ({exc.strerror or exc})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{where}: not valid TOML ({exc})") from None
    try:
        servers = _File.model_validate(raw).servers
    except ValidationError as exc:
        first = exc.errors()[0]
        at = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"{where}: {at}: {first['msg']}") from None
    names = [s.name for s in servers]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ConfigError(f"{where}: server names must be unique ({', '.join(dupes)})")
    return {s.name: s for s in servers}


def user_slot(user_id: str) -> str:
    """``alice.smith`` -> ``ALICE_SMITH``: a user id as it appears in a variable's name."""
    return re.sub(r"[^A-Z0-9]", "_", user_id.upper())


def resolve(value: str, environ: Mapping[str, str], *, user: str | None = None) -> str:
    """A configured value with its references filled in (``PermissionDenied`` when the
    caller's own credential is missing, ``ConfigError`` when a shared one is)."""
    if user is not None:
        value = value.replace("{user}", user_slot(user))
    if value.startswith("file:"):
        try:
            return Path(value[5:]).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"credential file {value[5:]}: {exc.strerror or exc}") from None

    def fill(m: re.Match[str]) -> str:
        name = m.group(1)
        if name not in environ:
            if user is not None:
                raise PermissionDenied(
                    f"no credential of your own for this MCP server (${name} is not set); "
                    "calls never run with another user's"
                )
            raise ConfigError(f"MCP server credential: environment variable {name} is not set")
        return environ[name]

    return _VAR.sub(fill, value)


def credential_of(
    spec: UpstreamSpec, environ: Mapping[str, str], user: str
) -> tuple[str, dict[str, str], dict[str, str]]:
    """(session key, env, headers) a call of ``user`` runs with: the shared credential, or
    the user's own (one session per user, so no call runs with another user's token)."""
    env = {k: resolve(v, environ) for k, v in spec.env.items()}
    headers = {k: resolve(v, environ) for k, v in spec.headers.items()}
    if spec.credential == "shared":
        return "shared", env, headers
    env |= {k: resolve(v, environ, user=user) for k, v in spec.per_user_env.items()}
    headers |= {k: resolve(v, environ, user=user) for k, v in spec.per_user_headers.items()}
    return f"user:{user}", env, headers
