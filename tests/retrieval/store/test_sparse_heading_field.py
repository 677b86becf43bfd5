"""The BM25 heading field end to end on both store backends: a chunk whose heading names the
question's words outranks one that only mentions them in passing, and ``heading_text``."""

from __future__ import annotations

import uuid

import pytest

from retrieval import schema
from retrieval.sparse import SparseConfig, SparseEncoder
from retrieval.store.base import ChunkPoint, IndexStore, SearchFilter

SAME = "Parcels leave in two days; a refund needs the receipt."
CHUNKS = (  # (section, text): the first two differ only in their heading
    ("Billing > Shipping", SAME),
    ("Billing > Refunds", SAME),
    ("Billing > Invoices", "Invoices are sent monthly to the billing contact email."),
)
EVERYONE = SearchFilter(access_tokens=("public",))


def fill(store: IndexStore, enc: SparseEncoder, heading: bool) -> None:
    texts = [t for _, t in CHUNKS]
    heads = [schema.heading_text("Billing", s) for s, _ in CHUNKS] if heading else None
    vecs = enc.encode_documents(texts, heads)
    store.ensure_collection(2)
    store.upsert(
        [
            ChunkPoint(
                str(uuid.uuid5(uuid.NAMESPACE_URL, section)),
                [1.0, 0.0],
                vec,
                {schema.DOC_ID: "billing", schema.ACCESS: ["public"], schema.SECTION: section},
            )
            for (section, _), vec in zip(CHUNKS, vecs, strict=True)
        ]
    )


def test_a_heading_match_ranks_first(store: IndexStore) -> None:
    enc = SparseEncoder()
    fill(store, enc, heading=True)
    hits = store.search_sparse(enc.encode_query("How do I get a refund?"), EVERYONE, 3)
    assert [h.payload[schema.SECTION] for h in hits[:2]] == [
        "Billing > Refunds",
        "Billing > Shipping",
    ]
    assert hits[0].score > hits[1].score > 0


def test_without_the_heading_field_only_the_text_counts(store: IndexStore) -> None:
    enc = SparseEncoder(SparseConfig(heading_weight=0.0))
    fill(store, enc, heading=False)
    hits = store.search_sparse(enc.encode_query("refund parcels"), EVERYONE, 3)
    assert len(hits) == 2 and hits[0].score == pytest.approx(hits[1].score)


@pytest.mark.parametrize(
    ("title", "section", "heading"),
    [
        (
            "Employee Handbook",
            "Time Off > Paid Time Off",
            "Employee Handbook\nTime Off > Paid Time Off",
        ),
        ("Employee Handbook", "Employee Handbook > Time Off", "Employee Handbook > Time Off"),
        ("Ticket 4711: Refund", "Ticket 4711: Refund", "Ticket 4711: Refund"),
        ("", "12.3 Limitation of Liability", "12.3 Limitation of Liability"),
        ("Master Services Agreement", "", "Master Services Agreement"),
        ("  ", " ", ""),
    ],
)
def test_heading_text_names_title_and_section_once(title: str, section: str, heading: str) -> None:
    assert schema.heading_text(title, section) == heading
