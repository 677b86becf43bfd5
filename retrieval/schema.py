"""The Qdrant collection schema that ingestion writes and retrieval reads.

One point per chunk, with a named dense vector and a named sparse (BM25-style) vector.

Access lists: every chunk's payload holds ``access``, a list of tokens copied from its document:
``public`` (everyone), ``user:<user_id>``, ``group:<group>`` and ``dept:<department>``.
A principal may read a chunk when the two token sets intersect; the filter for that is built
inside the store's query (see ``kernel.principal.Principal.access_tokens``).
"""

from __future__ import annotations

from typing import Final

DENSE_VECTOR: Final = "dense"
SPARSE_VECTOR: Final = "sparse"

# Payload keys (every point has these).
DOC_ID: Final = "doc_id"  # stable document id (derived from the source path, or the ticket id)
CHUNK_INDEX: Final = "chunk_index"  # 0-based position of the chunk in its document
DOC_TYPE: Final = "doc_type"  # contract | doc | ticket
DEPARTMENT: Final = "department"  # owning department
ACCESS: Final = "access"  # list of access tokens (see module docstring)
SOURCE: Final = "source"  # source path or URI
TITLE: Final = "title"  # document title (agreement title, page title, ticket subject)
SECTION: Final = "section"  # clause path ("12.3 Limitation of Liability") or heading breadcrumb
TEXT: Final = "text"  # the chunk text as embedded
TAGS: Final = "tags"  # list of tags
LANGUAGE: Final = "language"
UPDATED_AT: Final = "updated_at"  # document date, epoch seconds (float) for range filters
CONTENT_HASH: Final = "content_hash"  # the document's content hash
CONFIG_HASH: Final = "config_hash"  # the chunker+embedder config hash that produced the point
OWNER: Final = "owner"  # the document's owner (from the manifest), "" if unknown
SCOPE: Final = "scope"  # the ingestion source scope the document came from
CHUNK_COUNT: Final = "chunk_count"  # how many chunks the document has
# With chunk contexts on (ingest.chunk_contexts): the context embedded and indexed before TEXT.
CONTEXT: Final = "context"

# Optional payload keys, by document type:
#   contracts: "clause_path" (list of clause labels, outermost first), "parties"
#   docs:      "breadcrumbs" (list of headings), tables: "html", "table_rows" ([first, last])
#   tickets:   "status", "priority", "product", "customer", "ticket_id", "messages" ([first, last])

# Payload fields with an index (keyword unless said otherwise).
INDEXED_KEYWORD_FIELDS: Final = (DOC_ID, DOC_TYPE, DEPARTMENT, ACCESS, SOURCE, TAGS)
INDEXED_FLOAT_FIELDS: Final = (UPDATED_AT,)

PUBLIC: Final = "public"


def user_token(user_id: str) -> str:
    return f"user:{user_id}"


def group_token(group: str) -> str:
    return f"group:{group}"


def dept_token(department: str) -> str:
    return f"dept:{department}"


def heading_text(title: str, section: str) -> str:
    """A chunk's heading field for sparse search (``retrieval.sparse``): the document title and
    the section (clause path, heading breadcrumb), each once ("" when both are empty)."""
    title, section = title.strip(), section.strip()
    if not title or section.startswith(title):
        return section
    if not section or title.startswith(section):
        return title
    return f"{title}\n{section}"
