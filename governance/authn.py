"""The real ``Authenticate`` dependency: an API key from ``x-api-key`` or ``Authorization``.

The Anthropic SDK sends ``x-api-key``; the OpenAI SDK sends ``Authorization: Bearer <key>``.
No key, a malformed key, an unknown key and a revoked key are all 401 (``AuthenticationError``);
role checks (403) are ``kernel.auth.requires``'s job.
"""

from __future__ import annotations

import anyio.to_thread
from fastapi import Request

from governance.keys import KeyStore, check_tag
from kernel.auth import Authenticate
from kernel.errors import AuthenticationError
from kernel.principal import Principal
from kernel.request_context import header_value

STATE_KEY = "loregate_principal"
TAG_HEADER = "x-loregate-tag"


def key_from_headers(request: Request) -> str | None:
    key = header_value(request, "x-api-key")
    if key:
        return key.strip()
    auth = header_value(request, "authorization")
    if auth:
        scheme, _, value = auth.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    return None


def api_key_auth(store: KeyStore) -> Authenticate:
    async def authenticate(request: Request) -> Principal:
        # request.state's dict (``scope["state"]``, which ``State`` wraps), read and written
        # directly: a missing attribute of ``State`` is two caught exceptions, and a ``State``
        # built to set one is four calls more, on every request
        known = (request.scope.get("state") or {}).get(STATE_KEY)
        if isinstance(known, Principal):
            return known
        key = key_from_headers(request)
        if not key:
            raise AuthenticationError(
                "an API key is required: send it as `x-api-key: <key>` or "
                "`Authorization: Bearer <key>`"
            )
        principal = store.cached(key)
        if principal is None:
            principal = await anyio.to_thread.run_sync(store.lookup, key)
        tag = header_value(request, TAG_HEADER)
        if tag is not None and tag.strip():
            # the request's own allocation tag wins over its key's default
            principal = principal.model_copy(update={"tag": check_tag(tag, "X-Loregate-Tag")})
        request.scope.setdefault("state", {})[STATE_KEY] = principal
        return principal

    return authenticate
