"""Rights of a key: allowed routes and models are enforced before any provider is called."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from gateway.types import ModelRequest
from kernel.errors import PermissionDenied
from kernel.principal import Principal
from tests.governance.helpers import GovRig


def _ask(model: str) -> ModelRequest:
    return ModelRequest(model=model, messages=[{"role": "user", "content": "hi"}])


@pytest.mark.parametrize(
    ("principal", "model", "allowed"),
    [
        (Principal(user_id="a"), "default", True),
        (Principal(user_id="a", allowed_routes=("economy",)), "economy", True),
        (Principal(user_id="a", allowed_routes=("economy",)), "default", False),
        (Principal(user_id="a", allowed_routes=("economy",)), "claude-opus-4-8", False),
        (Principal(user_id="a", allowed_models=("claude-haiku-4-5",)), "claude-haiku-4-5", True),
        (Principal(user_id="a", allowed_models=("claude-haiku-4-5",)), "claude-opus-4-8", False),
        (Principal(user_id="a", allowed_models=("claude-haiku-4-5",)), "economy", True),
        (Principal(user_id="a", allowed_models=("claude-haiku-4-5",)), "default", False),
    ],
)
async def test_routes_and_models_of_a_key(
    sqlite_engine: Engine, principal: Principal, model: str, allowed: bool
) -> None:
    rig = GovRig(sqlite_engine)
    assert rig.gateway is not None
    if allowed:
        await rig.gateway.invoke(_ask(model), principal=principal)
        assert len(rig.anthropic.calls) == 1
    else:
        with pytest.raises(PermissionDenied) as caught:
            await rig.gateway.invoke(_ask(model), principal=principal)
        assert caught.value.status == 403 and model in caught.value.message
        assert rig.anthropic.calls == []
        [row] = rig.ledger.requests()
        assert (row.outcome, row.error_class) == ("rejected", "forbidden")
    await rig.aclose()
