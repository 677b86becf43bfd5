"""The demo's questions on embedded defaults with no key: the extractive tier answers each from
the clause or section that holds it, cited; the HR key's Legal question gets no Legal source and
no confident answer. (The local model is switched off here: it only adds seconds of generation
to the one question nothing answers.)"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from loregate.app import create_app
from loregate.cli.demo_cmds import LEGAL_ONLY, QUESTIONS
from loregate.graph import Loregate
from loregate.overrides import Overrides
from loregate.settings import load_settings

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
EXPECTED = {  # question -> (words the quote must hold, the document it must cite)
    QUESTIONS[0].question: ("ninety (90) days", "northwind:contracts/acme-msa.md"),
    QUESTIONS[1].question: ("5 unused PTO days", None),
    QUESTIONS[2].question: ("within 30 days of delivery", "northwind:support/refund-policy.html"),
}


@pytest.fixture
async def demo(loregate_env: Path) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str]]]:
    # No key in the environment (conftest removes them); the extractive answerer as the app
    # builds it, with the bundled encoder; the local model off.
    graph = Loregate(load_settings(), Overrides(providers={"local": None}))
    graph.migrate()
    report = graph.ingestor().ingest_path(
        [ROOT / "demo/corpus"], manifest=ROOT / "demo/manifest.yaml"
    )
    assert report.ok
    keys = graph.governance_parts.keys
    who = {
        "legal": keys.create(user="lena", department="legal", groups=["legal"]).key,
        "hr": keys.create(user="hank", department="hr").key,
    }
    transport = httpx.ASGITransport(app=create_app(graph=graph))
    async with httpx.AsyncClient(transport=transport, base_url="http://demo") as client:
        yield client, who
    await graph.aclose()


async def test_the_demo_answers_from_the_clauses_that_hold_the_answers(demo: Any) -> None:
    client, keys = demo
    answers = []
    for q in QUESTIONS:
        r = await client.post(
            "/v1/ask", json={"question": q.question}, headers={"x-api-key": keys[q.key]}
        )
        assert r.status_code == 200, r.text
        answers.append(r.json())
    assert all(a["confident"] for a in answers)
    for a in answers:
        words, doc = EXPECTED[a["question"]]
        assert words in a["answer"] and a["model"] == "extractive" and a["cost_usd"] == 0
        cited = {c["doc_id"] for c in a["citations"]}
        assert doc is None or doc in cited
    assert answers[3]["cached"] is True  # the repeated question

    denied = (
        await client.post(
            "/v1/ask", json={"question": LEGAL_ONLY}, headers={"x-api-key": keys["hr"]}
        )
    ).json()
    assert not denied["confident"] and denied["degraded"] == "no_confident_answer"
    assert not any(p["doc_id"].startswith("northwind:contracts/") for p in denied["passages"])
