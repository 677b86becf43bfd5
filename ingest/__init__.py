"""Ingestion: contracts, docs and tickets into the vector store, incremental and
permission-tagged.

Entry points (all on ``ingest.pipeline.Ingestor``)::

    from retrieval.embedder import Embedder
    from retrieval.sparse import SparseEncoder
    from retrieval.store.factory import build_store
    from ingest.pipeline import Ingestor

    store = build_store(url=None, path=home / "qdrant", collection="evals_claude_docs")
    ingestor = Ingestor(engine=engine, store=store, embedder=Embedder(),
                        sparse=SparseEncoder(), collection="evals_claude_docs")

    # 1. Files: a folder, a tree or a list of files, with an optional YAML manifest.
    report = ingestor.ingest_path([Path("demo/corpus")], manifest=Path("demo/manifest.yaml"),
                                  prune=True)

    # 2. Documents that come already parsed (e.g. the Claude-docs JSON chunks): the same
    #    pipeline (chunking, embedding, registry, change detection), scoped by ``scope``.
    from ingest.documents import ParsedDocument
    docs = [ParsedDocument(doc_id=c["chunk_link"], title=c["chunk_heading"], text=c["text"],
                           doc_type="doc", access=("public",), source=c["chunk_link"])
            for c in chunks]
    report = ingestor.ingest_documents(docs, scope="claude-docs", prune=True)

    ingestor.delete_document(doc_id)            # points and registry row
    ingestor.documents(scope=None)              # registry rows (DocumentRecord)

``ingest_documents`` is incremental like files: a document whose content, metadata and the
chunker/embedder config are unchanged is skipped without embedding; with ``prune=True``, a
document previously ingested under the same ``scope`` (in the same collection) and absent from
this call is deleted. Every chunk's payload carries ``doc_id`` (so gold ids given as document
ids map onto chunks by ``payload["doc_id"]``), ``chunk_index``, ``title``, ``section``,
``text``, ``source`` and the access list (see ``retrieval.schema``).

``IngestReport`` (``ingest.report``) says what happened: added, updated, unchanged, deleted
and failed documents (with reasons), chunks written, the index version after the run.

Modules: ``sources`` and ``manifest`` (what to ingest, with which metadata), ``loaders``
(files to elements: unstructured for PDF/DOCX/HTML/Markdown/TXT/EML/MSG, ticket exports in
JSON/NDJSON/CSV), ``chunking`` (by document type, sized in the embedding model's tokens),
``registry`` (SQL: documents and jobs), ``pipeline`` (the job).
"""
