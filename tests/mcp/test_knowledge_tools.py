"""loregate's own MCP tools return only what the caller may read, and `ask` is charged to the
caller and written to the ledger and the audit log."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from gateway.ledger.tables import ledger
from tests.mcp.conftest import McpRig

pytestmark = pytest.mark.anyio


def _json(result: object) -> dict[str, object]:
    return json.loads("".join(getattr(c, "text", "") for c in getattr(result, "content", [])))


async def test_search_and_fetch_follow_the_callers_access(rig: McpRig) -> None:
    seen: dict[str, set[str]] = {}
    for who in ("legal", "hr", "nogrant"):
        async with rig.client(who) as client:
            found = await client.call_tool("search_passages", {"query": "termination", "top_k": 5})
            seen[who] = {p["doc_id"] for p in _json(found)["passages"]}  # type: ignore[index, union-attr]
    legal_doc = next(iter(seen["legal"]))
    assert seen["legal"] and all("msa" in d for d in seen["legal"])
    assert seen["hr"] and all("handbook" in d for d in seen["hr"])
    assert seen["nogrant"] == set()  # sales may read neither
    async with rig.client("legal") as client:
        own = await client.call_tool("fetch_section", {"doc_id": legal_doc, "section": ""})
        assert "ninety (90) days" in json.dumps(_json(own))
    async with rig.client("hr") as client:
        other = await client.call_tool("fetch_section", {"doc_id": legal_doc})
        assert other.is_error and "that you may read" in json.dumps(_json(other))


async def test_ask_is_charged_to_the_caller_and_recorded(rig: McpRig) -> None:
    async with rig.client("legal") as client:
        answer = _json(await client.call_tool("ask", {"question": "What is the notice period?"}))
    assert answer["confident"] and "[1]" in str(answer["answer"])
    rig.graph.ledger_writer.flush()
    with rig.graph.engine.connect() as conn:
        rows = conn.execute(
            select(ledger.c.user_id, ledger.c.source, ledger.c.cost_nano_usd).where(
                ledger.c.kind == "request", ledger.c.source == "mcp"
            )
        ).all()
    assert [(r.user_id, r.source) for r in rows] == [("lena", "mcp")] and rows[0].cost_nano_usd > 0
    assert rig.graph.governance.flush_writers(timeout=10)
    audit = rig.graph.governance_parts.audit
    tools = [e.record for e in audit.recent(200) if e.record.get("source") == "mcp"]
    assert any(r["tool"]["name"] == "ask" and r["outcome"] == "ok" for r in tools)  # type: ignore[index]
