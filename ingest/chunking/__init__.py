"""Chunking by document type: contracts (clause-aware), docs (heading-aware), tickets (one
thread). Sizes are in the embedding model's tokens (``ChunkingConfig``)."""

from __future__ import annotations

from ingest.chunking.base import CHUNKER_VERSION, ChunkingConfig, EmbeddingTokenCounter
from ingest.chunking.contracts import chunk_contract
from ingest.chunking.docs import chunk_doc
from ingest.chunking.tickets import chunk_ticket
from ingest.documents import Chunk, ParsedDocument

__all__ = ["CHUNKER_VERSION", "ChunkingConfig", "EmbeddingTokenCounter", "chunk_document"]


def chunk_document(
    doc: ParsedDocument, counter: EmbeddingTokenCounter, config: ChunkingConfig
) -> list[Chunk]:
    if doc.doc_type == "contract":
        return chunk_contract(doc, counter, config)
    if doc.doc_type == "ticket":
        return chunk_ticket(doc, counter, config)
    return chunk_doc(doc, counter, config)
