"""How HTTP routers learn who is calling.

An ``Authenticate`` dependency turns a request into a ``Principal`` (raising
``AuthenticationError``, 401, without a valid key). Governance provides the real one (API keys
from ``x-api-key`` or ``Authorization: Bearer``); routers of every package receive it from the
wiring and wrap it with ``requires`` for role checks (403 outside the key's rights).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Request

from kernel.errors import PermissionDenied
from kernel.principal import Principal, Role

Authenticate = Callable[[Request], Awaitable[Principal]]


def requires(auth: Authenticate, *roles: Role) -> Authenticate:
    """A dependency that authenticates, then allows only ``roles`` (admins always pass)."""
    allowed = set(roles)

    async def dependency(request: Request) -> Principal:
        principal = await auth(request)
        if allowed and principal.role not in allowed and principal.role != Role.ADMIN:
            raise PermissionDenied(
                f"role {principal.role.value!r} may not call this endpoint "
                f"(needs one of: {', '.join(sorted(r.value for r in allowed))})"
            )
        return principal

    return dependency


def static_auth(principal: Principal) -> Authenticate:
    """Every request is ``principal`` (tests and single-user embedded tools only)."""

    async def dependency(request: Request) -> Principal:
        return principal

    return dependency
