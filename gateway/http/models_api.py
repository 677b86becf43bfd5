"""``GET /v1/models`` (both SDKs' shapes at once) and the gateway's admin views.

``/v1/models`` lists the model aliases, then the routes (a route is a valid ``model`` too).
Each entry carries the fields of both the Anthropic (``type``, ``display_name``,
``created_at``) and the OpenAI (``object``, ``created``, ``owned_by``) model objects.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from gateway.resilience.plan import describe
from gateway.service import Gateway
from kernel.auth import Authenticate, requires
from kernel.errors import ApiError
from kernel.principal import Principal, Role
from kernel.sse import compact_json

_EPOCH = "2026-01-01T00:00:00Z"


def _entry(name: str, display: str, owner: str) -> dict[str, Any]:
    return {
        "id": name,
        "type": "model",
        "display_name": display,
        "created_at": _EPOCH,
        "object": "model",
        "created": 1767225600,
        "owned_by": owner,
    }


def models_json(gateway: Gateway) -> dict[str, Any]:
    cfg = gateway.catalogue.config
    data = [
        _entry(alias, f"{alias} ({spec.provider}: {spec.model_id})", spec.provider)
        for alias, spec in cfg.models.items()
    ]
    data += [
        _entry(name, f"route {name}: {route.description}", "loregate-route")
        for name, route in cfg.routes.items()
        if name not in cfg.models
    ]
    return {
        "object": "list",
        "data": data,
        "has_more": False,
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
    }


def routes_json(gateway: Gateway) -> dict[str, Any]:
    routes: dict[str, Any] = {}
    for name, spec in gateway.catalogue.config.routes.items():
        try:
            routes[name] = {
                "description": spec.description,
                "tiers": describe(gateway.catalogue.plan(name)),
            }
        except ApiError as exc:
            routes[name] = {"description": spec.description, "error": exc.message}
    return {
        "routing_version": gateway.routing_version,
        "default_route": gateway.catalogue.config.default_route,
        "routes": routes,
    }


def models_router(gateway: Gateway, auth: Authenticate) -> APIRouter:
    router = APIRouter(tags=["gateway"])
    admin = requires(auth, Role.ADMIN)

    @router.get("/v1/models", summary="List the configured model aliases and routes")
    async def list_models(
        request: Request,
        principal: Principal = Depends(auth),  # noqa: B008
    ) -> Response:
        return Response(compact_json(models_json(gateway)), media_type="application/json")

    @router.get("/v1/gateway/routes", summary="Routes, their tiers now, and the routing version")
    async def list_routes(
        principal: Principal = Depends(admin),  # noqa: B008
    ) -> Response:
        return Response(compact_json(routes_json(gateway)), media_type="application/json")

    @router.get("/v1/gateway/breakers", summary="Circuit breaker state per provider/model")
    async def breakers(
        principal: Principal = Depends(admin),  # noqa: B008
    ) -> Response:
        return Response(
            compact_json({"breakers": gateway.catalogue.breaker_states()}),
            media_type="application/json",
        )

    return router
