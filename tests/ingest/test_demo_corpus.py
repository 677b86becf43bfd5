"""The demo corpus with the real embedding model: the facts the README demo asks about are
found, and access lists hold (an HR key never sees Legal's contracts)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kernel.principal import Principal
from retrieval import schema
from retrieval.embedder import Embedder
from retrieval.sparse import SparseEncoder
from retrieval.store.base import SearchFilter
from tests.ingest.conftest import MakeIngestor

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]

LEGAL = Principal(user_id="lena", department="legal", groups=("legal",))
HR = Principal(user_id="hana", department="hr")
SUPPORT = Principal(user_id="sam", department="support", groups=("support",))


def test_demo_facts_and_permissions(make_ingestor: MakeIngestor, real_embedder: Embedder) -> None:
    ing, store = make_ingestor(embedder=real_embedder)
    report = ing.ingest_path([ROOT / "demo/corpus"], manifest=ROOT / "demo/manifest.yaml")
    assert report.ok and len(report.added) == 13 and report.public_by_default == 0
    sparse = SparseEncoder()

    def top(question: str, who: Principal, k: int = 3) -> list[dict[str, object]]:
        flt = SearchFilter(tuple(who.access_tokens()))
        dense = store.search_dense(real_embedder.embed_query(question), flt, k)
        lexical = store.search_sparse(sparse.encode_query(question), flt, k)
        return [c.payload for c in dense + lexical]

    cap = top("What is the liability cap in the Acme master services agreement?", LEGAL)
    assert any(
        "twelve (12) months" in str(p[schema.TEXT])
        and str(p[schema.SECTION]).startswith("12. Limitation of Liability")
        for p in cap
    )
    hr_view = top("What is the liability cap in the Acme master services agreement?", HR, 10)
    assert hr_view and all(p[schema.DOC_TYPE] != "contract" for p in hr_view)
    assert all("dept:legal" not in p[schema.ACCESS] for p in hr_view)

    pto = top("How many days of paid time off do employees get?", HR)
    assert any("25 days of paid time off" in str(p[schema.TEXT]) for p in pto)
    refund = top("How long is the refund window for opened hardware?", SUPPORT)
    assert any("within 30 days of delivery" in str(p[schema.TEXT]) for p in refund)
    tickets = top("robots offline after firmware 4.2", SUPPORT)
    assert any(p.get("ticket_id") == "SUP-1057" for p in tickets)
    assert not any(p.get("ticket_id") for p in top("robots offline after firmware 4.2", HR, 10))
