"""Chunk contexts written by a model through loregate's gateway (``LOREGATE_CHUNK_CONTEXT=model``).

The prompt is Anthropic's published contextual-retrieval prompt: the whole document, then the
chunk, then the instruction. The document is a content block of its own with ``cache_control``,
so the first call of a document writes it to the prompt cache and every later call of that
document reads it (0.1x the input price): each document is paid for about once. The first
call of a document therefore goes alone; the others follow ``concurrency`` at a time.

Every call is an ordinary gateway call: routed (``LOREGATE_CHUNK_CONTEXT_ROUTE``, Haiku by
default), retried, budgeted, audited, and on the ledger with ``source="ingest"``, the job's
starter as user and ``ingest:<job id>`` as tag. A document longer than ``doc_chars`` is sent in
windows of that size, each chunk with the window it falls in.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from gateway.types import InvocationResult, ModelRequest
from ingest.chunk_contexts import JobTag
from ingest.documents import Chunk, ParsedDocument
from kernel.digest import sha256_hex
from kernel.principal import Principal

PROMPT_VERSION = "chunk-context-1"
INSTRUCTION = (
    "Please give a short succinct context to situate this chunk within the overall document "
    "for the purposes of improving search retrieval of the chunk. Answer only with the "
    "succinct context and nothing else."
)


class ContextGateway(Protocol):
    """The part of ``gateway.service.Gateway`` the writer calls."""

    async def invoke(
        self,
        request: ModelRequest,
        *,
        principal: Principal,
        route: str | None = None,
        prompt_version: str | None = None,
        source: str = "api",
        request_id: str | None = None,
    ) -> InvocationResult: ...


@dataclass(frozen=True)
class ModelContextConfig:
    route: str = "chunk-context"
    max_tokens: int = 120  # Anthropic's contexts run 50-100 tokens
    concurrency: int = 4
    doc_chars: int = 360_000  # about 90k tokens: far inside Haiku's window, chunk included

    def __post_init__(self) -> None:
        if not self.route.strip():
            raise ValueError("the chunk-context route is empty")
        if self.concurrency < 1 or self.max_tokens < 8 or self.doc_chars < 1_000:
            raise ValueError("concurrency >= 1, max_tokens >= 8 and doc_chars >= 1000")


def document_text(doc: ParsedDocument) -> str:
    body = "\n\n".join(e.text for e in doc.elements) if doc.elements else doc.text
    return f"{doc.title}\n\n{body}"


def windows(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def context_request(route: str, document: str, chunk: Chunk, max_tokens: int) -> ModelRequest:
    return ModelRequest(
        model=route,
        max_tokens=max_tokens,
        temperature=0.0,
        messages=[
            {
                "role": "user",
                "content": [
                    {
                        "type": "text",
                        "text": f"<document>\n{document}\n</document>",
                        "cache_control": {"type": "ephemeral"},
                    },
                    {
                        "type": "text",
                        "text": (
                            "Here is the chunk we want to situate within the whole document\n"
                            f"<chunk>\n{chunk.text}\n</chunk>\n{INSTRUCTION}"
                        ),
                    },
                ],
            }
        ],
    )


class ModelContextWriter:
    def __init__(self, gateway: ContextGateway, config: ModelContextConfig | None = None) -> None:
        self.gateway = gateway
        self.config = config or ModelContextConfig()

    @property
    def config_id(self) -> str:
        return f"model:{self.config.route}:{PROMPT_VERSION}"

    async def write(
        self, doc: ParsedDocument, chunks: Sequence[Chunk], all_chunks: Sequence[Chunk], job: JobTag
    ) -> list[str]:
        parts = windows(document_text(doc), self.config.doc_chars)
        total = max(1, len(all_chunks))
        by_window: dict[int, list[int]] = defaultdict(list)
        for i, chunk in enumerate(chunks):
            by_window[min(len(parts) - 1, chunk.index * len(parts) // total)].append(i)
        out = [""] * len(chunks)
        gate = asyncio.Semaphore(self.config.concurrency)
        doc_key = sha256_hex(doc.doc_id)[:16]  # request ids fit the ledger's 128 characters

        async def one(i: int, document: str) -> None:
            async with gate:
                chunk = chunks[i]
                result = await self.gateway.invoke(
                    context_request(self.config.route, document, chunk, self.config.max_tokens),
                    principal=job.principal,
                    route=self.config.route,
                    prompt_version=PROMPT_VERSION,
                    source="ingest",
                    request_id=f"ingest-{job.job_id[:32]}-{doc_key}-{chunk.index}",
                )
                out[i] = result.response.text.strip()

        for w, members in sorted(by_window.items()):
            await one(members[0], parts[w])  # writes the document to the prompt cache
            await asyncio.gather(*(one(i, parts[w]) for i in members[1:]))
        return out
