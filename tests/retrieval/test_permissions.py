"""Permission property: random principals and access lists, on every store backend; no chunk
outside the asker's rights is ever returned, and no allowed chunk is hidden."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kernel.principal import Principal
from retrieval import schema
from retrieval.answer_types import AskFilters
from retrieval.filters import search_filter
from retrieval.search import HybridSearcher
from retrieval.sparse import SparseEncoder
from testkit.embedders import FakeEmbedder
from tests.retrieval.helpers import BACKENDS, Doc, make_store, points

USERS = ["u0", "u1", "u2", "u3"]
GROUPS = ["g0", "g1", "g2"]
DEPTS = ["legal", "hr", "sales"]
TOKENS = (
    ["public"]
    + [f"user:{u}" for u in USERS]
    + [f"group:{g}" for g in GROUPS]
    + [f"dept:{d}" for d in DEPTS]
)
WORDS = ["contract", "leave", "notice", "salary", "termination", "policy", "ticket", "refund"]

access_lists = st.lists(st.sampled_from(TOKENS), min_size=0, max_size=3, unique=True)
principals = st.builds(
    Principal,
    user_id=st.sampled_from([*USERS, "u9"]),
    department=st.sampled_from([*DEPTS, ""]),
    groups=st.lists(st.sampled_from(GROUPS), max_size=2, unique=True).map(tuple),
)
docs = st.lists(
    st.tuples(
        access_lists,
        st.lists(st.sampled_from(WORDS), min_size=2, max_size=6),
        st.sampled_from(["contract", "doc", "ticket"]),
    ),
    min_size=1,
    max_size=8,
)

EMBEDDER = FakeEmbedder(dim=32)
SPARSE = SparseEncoder()


def allowed(access: list[str], p: Principal) -> bool:
    return bool(set(access) & set(p.access_tokens()))


@pytest.mark.parametrize("backend", BACKENDS)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    corpus=docs,
    askers=st.lists(principals, min_size=1, max_size=4),
    query=st.lists(st.sampled_from(WORDS), min_size=1, max_size=3).map(" ".join),
    doc_type=st.sampled_from([None, "contract", "doc", "ticket"]),
)
def test_no_chunk_outside_the_askers_rights(
    backend: str,
    corpus: list[tuple[list[str], list[str], str]],
    askers: list[Principal],
    query: str,
    doc_type: str | None,
) -> None:
    built = [
        Doc(f"d{i}", [" ".join(words), " ".join(reversed(words))], access=acl, doc_type=dt)
        for i, (acl, words, dt) in enumerate(corpus)
    ]
    with tempfile.TemporaryDirectory() as tmp:
        store = make_store(backend, Path(tmp))
        try:
            store.ensure_collection(EMBEDDER.dim)
            store.upsert(points(built, EMBEDDER, SPARSE))
            searcher = HybridSearcher(store, EMBEDDER, SPARSE)
            access_of = {c: d.access for d in built for c in (f"{d.doc_id}#0", f"{d.doc_id}#1")}
            for p in askers:
                filters = AskFilters(doc_types=[doc_type] if doc_type else [])
                flt = search_filter(p, filters)
                expected = {
                    f"{d.doc_id}#{i}"
                    for d in built
                    for i in range(2)
                    if allowed(d.access, p) and (doc_type is None or d.doc_type == doc_type)
                }
                dense = store.search_dense(EMBEDDER.embed_query(query), flt, 100)
                got_dense = {
                    f"{c.payload[schema.DOC_ID]}#{c.payload[schema.CHUNK_INDEX]}" for c in dense
                }
                assert got_dense == expected  # exact: nothing outside, nothing hidden
                hits = searcher.search(query, flt, top_k=100)
                for h in hits:
                    key = f"{h.payload[schema.DOC_ID]}#{h.payload[schema.CHUNK_INDEX]}"
                    assert key in expected, (p, access_of[key])
                sparse = store.search_sparse(SPARSE.encode_query(query), flt, 100)
                assert all(allowed(list(c.payload[schema.ACCESS]), p) for c in sparse)
                assert store.count(flt) == len(expected)
        finally:
            store.close()


@pytest.mark.parametrize("backend", BACKENDS)
def test_answer_service_search_applies_the_filter(
    backend: str, tmp_path: Path, engine: Any
) -> None:
    """The service's own search path (``POST /v1/search``) on the shared rig corpus."""
    from tests.retrieval.helpers import CORPUS, HR, LEGAL, OUTSIDER, Rig

    store = make_store(backend, tmp_path)
    store.ensure_collection(EMBEDDER.dim)
    store.upsert(points(CORPUS, EMBEDDER, SPARSE))
    rig = Rig(store, EMBEDDER, SPARSE, engine)
    try:
        for p, docs_seen in (
            (LEGAL, {"msa-contoso", "handbook"}),
            (HR, {"leave-policy", "handbook"}),
            (OUTSIDER, {"handbook"}),
        ):
            passages = asyncio.run(
                rig.service.search("terminate leave notice office", principal=p, top_k=20)
            )
            assert {x.doc_id for x in passages} == docs_seen
    finally:
        store.close()
