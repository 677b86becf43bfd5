from tests.ingest.test_demo_corpus import *
def test_dbg(make_ingestor, real_embedder):
    ing, store = make_ingestor(embedder=real_embedder)
    ing.ingest_path([ROOT / "demo/corpus"], manifest=ROOT / "demo/manifest.yaml")
    flt = SearchFilter(tuple(LEGAL.access_tokens()))
    q = "What is the liability cap in the Acme master services agreement?"
    for c in store.search_dense(real_embedder.embed_query(q), flt, 5) + store.search_sparse(SparseEncoder().encode_query(q), flt, 5):
        print(round(c.score,3), c.payload["doc_id"], "|", c.payload["section"])
    for c in store.chunks_of_doc("northwind:contracts/acme-msa.md", flt):
        print(c.payload["section"], real_embedder.count_tokens(c.payload["text"]))
    assert False
