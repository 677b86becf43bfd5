"""Answerers: the HTTP one against a mock /v1/ask (keys, body, errors); the in-process one."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from evals.answerers import HttpAnswerer, InProcessAnswerer, RemoteError
from evals.dataset import EvalItem, PrincipalSpec
from kernel.errors import InvalidRequest, ProviderConnectionError
from retrieval.answer_types import AskFilters
from tests.evals.helpers import answer

HR = EvalItem(
    id="hr",
    question="Leave?",
    principal=PrincipalSpec(user_id="hana", department="hr"),
    filters=AskFilters(doc_types=["doc"]),
)
PUBLIC = EvalItem(id="pub", question="Hours?")


def test_http_answerer_posts_with_each_principals_key() -> None:
    seen: list[tuple[str, str, dict[str, object]]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        seen.append((request.url.path, request.headers["authorization"], body))
        return httpx.Response(200, json=answer(cost=0.004).model_dump(mode="json"))

    ans = HttpAnswerer(
        "http://loregate.test/",
        "ev-key",
        principal_keys={"hana": "hr-key"},
        route="economy",
        transport=httpx.MockTransport(handler),
    )
    a = asyncio.run(ans.answer(HR))
    b = asyncio.run(ans.answer(PUBLIC))
    asyncio.run(ans.aclose())
    assert a.cost_usd == 0.004 and b.passages[0].doc_id == "d1"
    assert seen[0] == (
        "/v1/ask",
        "Bearer hr-key",
        {
            "question": "Leave?",
            "route": "economy",
            "filters": {
                "doc_types": ["doc"],
                "departments": [],
                "tags": [],
                "updated_from": None,
                "updated_to": None,
            },
        },
    )
    assert seen[1][1] == "Bearer ev-key" and "filters" not in seen[1][2]


def test_http_answerer_errors() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if b"Leave" in request.content:
            return httpx.Response(403, json={"error": {"code": "forbidden", "message": "role"}})
        return httpx.Response(502, text="<html>bad gateway</html>")

    ans = HttpAnswerer(
        "http://x", "k", principal_keys={"hana": "h"}, transport=httpx.MockTransport(handler)
    )
    with pytest.raises(RemoteError) as err:
        asyncio.run(ans.answer(HR))
    assert (err.value.code, err.value.status, err.value.message) == ("forbidden", 403, "role")
    with pytest.raises(RemoteError) as err:
        asyncio.run(ans.answer(PUBLIC))
    assert err.value.code == "http_error" and "bad gateway" in err.value.message

    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    dead = HttpAnswerer("http://x", "k", transport=httpx.MockTransport(down))
    with pytest.raises(ProviderConnectionError, match="cannot reach http://x: ConnectError"):
        asyncio.run(dead.answer(PUBLIC))


def test_http_answerer_checks_its_inputs() -> None:
    with pytest.raises(InvalidRequest, match="must start with http"):
        HttpAnswerer("loregate:8000", "k")
    with pytest.raises(InvalidRequest, match="needs an evaluator key"):
        HttpAnswerer("http://x", "")
    ans = HttpAnswerer("http://x", "k")
    assert ans.missing_keys([HR, PUBLIC]) == ["hana"]
    with pytest.raises(InvalidRequest, match="asks as 'hana', but no key was given"):
        ans.key_for(HR)


def test_in_process_answerer_passes_principal_filters_and_route() -> None:
    calls = []

    class Service:
        def ask(
            self, question: str, *, principal: object, filters: object = None, route: object = None
        ) -> object:
            calls.append((question, principal, filters, route))
            return answer()  # a sync service works too

    a = asyncio.run(InProcessAnswerer(Service(), route="local").answer(HR))
    assert a.tier == 0
    question, principal, filters, route = calls[0]
    assert question == "Leave?" and route == "local" and filters == HR.filters
    assert principal.user_id == "hana" and "dept:hr" in principal.access_tokens()  # type: ignore[attr-defined]

    class Wrong:
        async def ask(self, question: str, **kw: object) -> object:
            return {"answer": "a dict"}

    with pytest.raises(TypeError, match="returned dict, not Answer"):
        asyncio.run(InProcessAnswerer(Wrong()).answer(PUBLIC))
