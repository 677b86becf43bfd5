"""Calls to upstream MCP servers: one long-lived session per server and credential, a timeout
per call, retries of reads (never of writes) and a circuit breaker per server, as for models.

A session is owned by a task of its own (the SDK's client is an async context manager whose
cancel scopes must be left by the task that entered them); requests reach it through that
task's client. A session that breaks is dropped and opened again by the next call.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx2
import mcp_types
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from gateway.config import BreakerPolicy
from gateway.mcp_config import SEPARATOR, ToolKind, UpstreamSpec, credential_of
from gateway.resilience.breaker import Breakers
from kernel.clock import SYSTEM_CLOCK, Clock
from kernel.errors import (
    CircuitOpen,
    NotFound,
    ProviderConnectionError,
    ProviderError,
    ProviderTimeout,
)


@dataclass(frozen=True)
class UpstreamTool:
    server: str
    name: str
    kind: ToolKind
    tool: mcp_types.Tool  # as the upstream lists it

    @property
    def qualified(self) -> str:
        return f"{self.server}{SEPARATOR}{self.name}"


def tool_kind(spec: UpstreamSpec, tool: mcp_types.Tool) -> ToolKind:
    """The configured class, else the server's ``readOnlyHint``; unannotated tools are writes."""
    if tool.name in spec.tools:
        return spec.tools[tool.name]
    hints = tool.annotations
    return "read" if hints is not None and hints.read_only_hint else "write"


class _Session:
    """One open client session, owned by its own task."""

    def __init__(self, spec: UpstreamSpec, env: dict[str, str], headers: dict[str, str]) -> None:
        self.spec = spec
        self.env = env
        self.headers = headers
        self.client: Client | None = None
        self._ready = asyncio.Event()
        self._stop = asyncio.Event()
        self._error: BaseException | None = None
        self._task: asyncio.Task[None] | None = None

    async def _own(self) -> None:
        spec = self.spec
        try:
            async with contextlib.AsyncExitStack() as stack:
                target: Any
                if spec.url is not None:
                    http = httpx2.AsyncClient(headers=self.headers, timeout=spec.timeout_s)
                    await stack.enter_async_context(http)
                    target = streamable_http_client(spec.url, http_client=http)
                else:
                    assert spec.command is not None
                    target = StdioServerParameters(
                        command=spec.command, args=spec.args, env=self.env, cwd=spec.cwd
                    )
                client = Client(target, read_timeout_seconds=spec.timeout_s)
                self.client = await stack.enter_async_context(client)
                self._ready.set()
                await self._stop.wait()
        except BaseException as exc:  # reported to whoever waits for the session
            self._error = exc
        finally:
            self.client = None
            self._ready.set()

    async def open(self) -> Client:
        if self._task is None:
            self._task = asyncio.create_task(self._own(), name=f"mcp-upstream-{self.spec.name}")
        try:
            await asyncio.wait_for(self._ready.wait(), self.spec.timeout_s)
        except TimeoutError:
            raise ProviderTimeout(
                f"MCP server {self.spec.name!r} did not start within {self.spec.timeout_s:g}s",
                provider="mcp",
                model=self.spec.name,
            ) from None
        if self.client is None:
            raise ProviderConnectionError(
                f"MCP server {self.spec.name!r} could not be reached: "
                f"{type(self._error).__name__}: {self._error}",
                provider="mcp",
                model=self.spec.name,
            )
        return self.client

    async def close(self) -> None:
        """Leave the session; a server that does not let go in a second is cancelled (the
        SDK then stops its process)."""
        self._stop.set()
        if self._task is not None:
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(self._task, 1.0)


class Upstreams:
    """Every configured upstream's sessions, tool listings and circuits."""

    def __init__(
        self,
        specs: Mapping[str, UpstreamSpec],
        *,
        breaker: BreakerPolicy | None = None,
        clock: Clock = SYSTEM_CLOCK,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.specs = dict(specs)
        self.breakers = Breakers(breaker or BreakerPolicy(), clock)
        self.environ = environ if environ is not None else os.environ
        self._sessions: dict[tuple[str, str], _Session] = {}
        self._tools: dict[str, list[UpstreamTool]] = {}
        self._lock = asyncio.Lock()

    def spec(self, server: str) -> UpstreamSpec:
        found = self.specs.get(server)
        if found is None:
            raise NotFound(f"no MCP server named {server!r} is configured")
        return found

    async def _session(self, spec: UpstreamSpec, user: str) -> Client:
        key, env, headers = credential_of(spec, self.environ, user)
        async with self._lock:
            session = self._sessions.get((spec.name, key))
            if session is None:
                session = self._sessions[(spec.name, key)] = _Session(spec, env, headers)
        try:
            return await session.open()
        except ProviderError:
            await self._drop(spec.name, key, session)
            raise

    async def _drop(self, server: str, key: str, session: _Session) -> None:
        async with self._lock:
            if self._sessions.get((server, key)) is session:
                del self._sessions[(server, key)]
        await session.close()

    async def tools(self, server: str, user: str) -> list[UpstreamTool]:
        """The server's tools with their class (listed once, then kept)."""
        known = self._tools.get(server)
        if known is not None:
            return known
        spec = self.spec(server)
        listed = await self._guarded(spec, user, "read", lambda c: c.list_tools())
        found = [UpstreamTool(server, t.name, tool_kind(spec, t), t) for t in listed.tools]
        self._tools[server] = found
        return found

    async def call(
        self, server: str, tool: str, arguments: dict[str, Any], *, user: str, kind: ToolKind
    ) -> mcp_types.CallToolResult:
        """The tool's result (an ``is_error`` result is the tool's answer, not a failure)."""
        spec = self.spec(server)
        result: mcp_types.CallToolResult = await self._guarded(
            spec, user, kind, lambda c: c.call_tool(tool, arguments, spec.timeout_s)
        )
        return result

    async def _guarded(self, spec: UpstreamSpec, user: str, kind: ToolKind, op: Any) -> Any:
        credential_of(spec, self.environ, user)  # the caller's own credential, or refused now
        circuit = self.breakers.get(spec.name)
        attempts = 1 + (spec.read_retries if kind == "read" else 0)
        for attempt in range(attempts):
            if not circuit.admit():
                raise CircuitOpen(
                    f"MCP server {spec.name!r} failed repeatedly; its circuit is open",
                    provider="mcp",
                    model=spec.name,
                )
            try:
                client = await self._session(spec, user)
                result = await asyncio.wait_for(op(client), spec.timeout_s)
            except TimeoutError:
                error: ProviderError = ProviderTimeout(
                    f"MCP server {spec.name!r} did not answer within {spec.timeout_s:g}s",
                    provider="mcp",
                    model=spec.name,
                )
            except ProviderError as exc:
                error = exc
            except Exception as exc:  # the session broke: drop it, the next call reopens
                error = ProviderConnectionError(
                    f"MCP server {spec.name!r}: {type(exc).__name__}: {exc}",
                    provider="mcp",
                    model=spec.name,
                )
                key, _, _ = credential_of(spec, self.environ, user)
                session = self._sessions.get((spec.name, key))
                if session is not None:
                    await self._drop(spec.name, key, session)
            else:
                circuit.record(None)
                return result
            circuit.record(error)
            if attempt == attempts - 1 or isinstance(error, CircuitOpen):
                raise error
        raise AssertionError("unreachable")

    def states(self) -> dict[str, str]:
        return self.breakers.states()

    async def aclose(self) -> None:
        sessions = list(self._sessions.values())
        self._sessions.clear()
        for session in sessions:
            await session.close()
