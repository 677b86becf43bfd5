"""loregate's own MCP tools: search passages, ask for a cited answer, fetch a document's section.

Each runs as the caller's key with the same permission filter as ``/v1/search`` and ``/v1/ask``
(``retrieval.filters.search_filter``). ``ask`` goes through the gateway like any ask: it is
charged to the caller's budget and written to the ledger and the audit log (source ``mcp``).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import mcp_types

from kernel.errors import InvalidRequest, NotFound
from kernel.principal import Principal
from retrieval import schema
from retrieval.answer import AnswerService
from retrieval.filters import search_filter
from retrieval.reviewed import ChunkSource

READ_ONLY = mcp_types.ToolAnnotations(read_only_hint=True, open_world_hint=False)

TOOLS = [
    mcp_types.Tool(
        name="search_passages",
        description=(
            "Search the company's contracts, docs and tickets you may read; the passages with "
            "their document, section and score (no model call, no cost)."
        ),
        input_schema={
            "type": "object",
            "properties": {
                "query": {"type": "string", "minLength": 1},
                "top_k": {"type": "integer", "minimum": 1, "maximum": 20, "default": 5},
            },
            "required": ["query"],
        },
        annotations=READ_ONLY,
    ),
    mcp_types.Tool(
        name="ask",
        description=(
            "A cited answer from the documents you may read (every claim cited [n] to a clause, "
            "section or ticket); charged to your budget."
        ),
        input_schema={
            "type": "object",
            "properties": {"question": {"type": "string", "minLength": 1}},
            "required": ["question"],
        },
        annotations=READ_ONLY,
    ),
    mcp_types.Tool(
        name="fetch_section",
        description=(
            "The text of one document (by doc_id, as search_passages returns it), or of its "
            "sections whose path starts with `section`."
        ),
        input_schema={
            "type": "object",
            "properties": {
                "doc_id": {"type": "string", "minLength": 1},
                "section": {"type": "string", "default": ""},
            },
            "required": ["doc_id"],
        },
        annotations=READ_ONLY,
    ),
]
NAMES = {t.name for t in TOOLS}


def _text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=1)


def _arg(arguments: dict[str, Any], name: str, kind: type, default: Any = None) -> Any:
    value = arguments.get(name, default)
    if value is None or not isinstance(value, kind) or isinstance(value, bool):
        raise InvalidRequest(f"argument {name!r} must be a {kind.__name__}")
    return value


class KnowledgeTools:
    def __init__(
        self, answers: Callable[[], AnswerService], chunks: Callable[[], ChunkSource]
    ) -> None:
        # built on first use: the store opens then, not at start-up
        self.answers = answers
        self.chunks = chunks

    def handler(
        self, name: str
    ) -> Callable[[dict[str, Any], Principal, str], Awaitable[dict[str, Any]]]:
        return {
            "search_passages": self.search,
            "ask": self.ask,
            "fetch_section": self.fetch_section,
        }[name]

    async def search(
        self, arguments: dict[str, Any], principal: Principal, request_id: str
    ) -> dict[str, Any]:
        query = _arg(arguments, "query", str)
        top_k = _arg(arguments, "top_k", int, 5)
        found = await self.answers().search(query, principal=principal, top_k=top_k)
        return {"passages": [p.model_dump(mode="json") for p in found]}

    async def ask(
        self, arguments: dict[str, Any], principal: Principal, request_id: str
    ) -> dict[str, Any]:
        question = _arg(arguments, "question", str)
        answer = await self.answers().ask(
            question, principal=principal, request_id=request_id, source="mcp"
        )
        return answer.model_dump(
            mode="json",
            include={"answer", "citations", "confident", "degraded", "cost_usd", "request_id"},
        )

    async def fetch_section(
        self, arguments: dict[str, Any], principal: Principal, request_id: str
    ) -> dict[str, Any]:
        doc_id = _arg(arguments, "doc_id", str)
        section = _arg(arguments, "section", str, "")
        chunks = await asyncio.to_thread(
            self.chunks().chunks_of_doc, doc_id, search_filter(principal, None)
        )
        picked = [c for c in chunks if str(c.payload.get(schema.SECTION, "")).startswith(section)]
        if not picked:  # unknown, or not readable by this caller: the same answer for both
            where = f" with a section starting {section!r}" if section else ""
            raise NotFound(f"no document {doc_id!r}{where} that you may read")
        first = picked[0].payload
        return {
            "doc_id": doc_id,
            "title": first.get(schema.TITLE, ""),
            "source": first.get(schema.SOURCE, ""),
            "sections": [
                {
                    "section": c.payload.get(schema.SECTION, ""),
                    "text": c.payload.get(schema.TEXT, ""),
                }
                for c in picked
            ],
        }


def text_result(value: dict[str, Any], *, error: bool = False) -> mcp_types.CallToolResult:
    return mcp_types.CallToolResult(
        content=[mcp_types.TextContent(type="text", text=_text(value))], is_error=error
    )
