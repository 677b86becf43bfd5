"""The HTTP API: /v1/ask (JSON and SSE), /v1/search and the review endpoints, with bad input."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request

from kernel.errors import AuthenticationError
from kernel.principal import Principal, Role
from loregate.errors_http import install_error_handlers
from retrieval.api import build_router
from retrieval.sparse import SparseEncoder
from retrieval.store.base import IndexStore
from testkit.embedders import FakeEmbedder
from testkit.scripted import Reply as Scripted
from tests.retrieval.helpers import HAIKU, HR, LEGAL, Rig

REVIEWER = Principal(user_id="rita", role=Role.REVIEWER)
KEYS = {"legal": LEGAL, "hr": HR, "reviewer": REVIEWER}
Q = "How much notice to terminate for convenience?"


async def by_key(request: Request) -> Principal:
    key = request.headers.get("x-api-key", "")
    if key not in KEYS:
        raise AuthenticationError("invalid API key")
    return KEYS[key]


@pytest.fixture
async def api(
    corpus_store: IndexStore,
    fake_embedder: FakeEmbedder,
    sparse_encoder: SparseEncoder,
    engine: Any,
) -> AsyncIterator[tuple[httpx.AsyncClient, Rig]]:
    rig = Rig(corpus_store, fake_embedder, sparse_encoder, engine)
    app = FastAPI()
    install_error_handlers(app, [])
    app.include_router(build_router(rig.service, rig.review, by_key))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client, rig


def h(key: str) -> dict[str, str]:
    return {"x-api-key": key}


async def test_ask_returns_the_answer_with_citations_tier_tokens_and_cost(api: Any) -> None:
    client, rig = api
    rig.anthropic.push(Scripted("Ninety days [1]."), model=HAIKU)
    resp = await client.post("/v1/ask", json={"question": Q}, headers=h("legal"))
    assert resp.status_code == 200
    body = resp.json()
    assert body["answer"] == "Ninety days [1]." and body["confident"] is True
    cite = body["citations"][0]
    assert cite["title"] == "Master Services Agreement Contoso"
    assert cite["source"] == "corpus/msa-contoso.md" and cite["chunk_id"]
    assert body["tier"] == 0 and body["model"] == "claude-haiku-4-5"
    assert body["tokens"] == {"input": 10, "output": 5, "cache_write": 0, "cache_read": 0}
    assert body["cost_usd"] > 0 and body["prompt_version"].startswith("answer@")
    assert body["escalations"][0]["outcome"] == "ok"


async def test_ask_streams_deltas_then_the_answer(api: Any) -> None:
    client, rig = api
    rig.anthropic.push(Scripted("Ninety days' notice [1]."), model=HAIKU)
    async with client.stream(
        "POST", "/v1/ask", json={"question": Q, "stream": True}, headers=h("legal")
    ) as resp:
        assert resp.status_code == 200
        assert resp.headers["content-type"].startswith("text/event-stream")
        raw = "".join([chunk async for chunk in resp.aiter_text()])
    events = [
        (block.split("\n")[0].removeprefix("event: "), json.loads(block.split("\n")[1][6:]))
        for block in raw.strip().split("\n\n")
    ]
    kinds = [k for k, _ in events]
    assert kinds[-1] == "answer" and set(kinds[:-1]) == {"delta"}
    assert "".join(d["text"] for k, d in events if k == "delta") == "Ninety days' notice [1]."
    final = events[-1][1]
    assert final["citations"][0]["doc_id"] == "msa-contoso" and final["cost_usd"] > 0


async def test_search_returns_passages_within_the_askers_rights(api: Any) -> None:
    client, _ = api
    resp = await client.post(
        "/v1/search", json={"query": "terminate notice leave", "top_k": 10}, headers=h("hr")
    )
    assert resp.status_code == 200
    passages = resp.json()["passages"]
    assert passages and {p["doc_id"] for p in passages} <= {"leave-policy", "handbook"}
    assert {"text", "score", "title", "section", "source"} <= set(passages[0])


@pytest.mark.parametrize(
    ("path", "body", "key", "status", "code", "needle"),
    [
        ("/v1/ask", {"question": Q}, None, 401, "unauthenticated", "invalid API key"),
        ("/v1/ask", {"question": ""}, "legal", 422, "validation_error", "question"),
        ("/v1/ask", {"question": Q, "colour": 1}, "legal", 422, "validation_error", "colour"),
        (
            "/v1/ask",
            {"question": Q, "filters": {"doc_types": ["memo"]}},
            "legal",
            400,
            "invalid_request",
            "unknown type",
        ),
        (
            "/v1/ask",
            {"question": Q, "filters": {"updated_from": 9, "updated_to": 1}},
            "legal",
            400,
            "invalid_request",
            "updated_from",
        ),
        ("/v1/ask", {"question": Q, "route": "nope"}, "legal", 404, "unknown_model", "nope"),
        ("/v1/search", {"query": "x", "top_k": 0}, "legal", 422, "validation_error", "top_k"),
        ("/v1/search", {"query": "x" * 5000}, "legal", 422, "validation_error", "query"),
    ],
)
async def test_bad_requests_get_a_clear_error(
    api: Any,
    path: str,
    body: dict[str, Any],
    key: str | None,
    status: int,
    code: str,
    needle: str,
) -> None:
    client, rig = api
    resp = await client.post(path, json=body, headers=h(key) if key else {})
    assert resp.status_code == status, resp.text
    err = resp.json()["error"]
    assert err["code"] == code and needle in json.dumps(err)
    assert rig.anthropic.calls == []


async def test_review_endpoints(api: Any) -> None:
    client, rig = api
    rig.anthropic.push(*(Scripted("no idea") for _ in range(3)))
    degraded = (await client.post("/v1/ask", json={"question": Q}, headers=h("legal"))).json()
    item_id = degraded["review_id"]
    assert degraded["degraded"] == "no_confident_answer" and item_id

    assert (await client.get("/v1/review", headers=h("legal"))).status_code == 403
    listed = (await client.get("/v1/review", headers=h("reviewer"))).json()
    assert [i["id"] for i in listed["items"]] == [item_id]
    assert listed["items"][0]["question"] == Q

    bad = await client.post(
        f"/v1/review/{item_id}/rewrite", json={"answer": ""}, headers=h("reviewer")
    )
    assert bad.status_code == 422
    missing = await client.post("/v1/review/nope/approve", headers=h("reviewer"))
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    ok = await client.post(
        f"/v1/review/{item_id}/rewrite",
        json={"answer": "Ninety days [1].", "note": "clause 9.2"},
        headers=h("reviewer"),
    )
    assert ok.status_code == 200
    assert ok.json()["status"] == "rewritten" and ok.json()["reviewer"] == "rita"
    again = await client.post(f"/v1/review/{item_id}/reject", headers=h("reviewer"))
    assert again.status_code == 409 and again.json()["error"]["code"] == "review_already_decided"
    stats = (await client.get("/v1/review?status=all", headers=h("reviewer"))).json()["stats"]
    assert stats["rewrite_rate"] == 1.0 and stats["rejection_rate"] == 0.0
    bad_status = await client.get("/v1/review?status=pending", headers=h("reviewer"))
    assert bad_status.status_code == 400
