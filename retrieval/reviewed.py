"""Reviewed answers served back: a reviewer's approval or rewrite answers the same question again.

Keying. An item of the review queue carries the ``answer_key`` of the ask that queued it: the
sha256 of the normalised question (as the response cache normalises it), the validated filters,
the asker's access scope (their sorted access tokens, ``user:<id>`` included) and the prompt
version (``answer@<hash>``). The route and the index version are not in it: a reviewer's answer
does not depend on which model drafted it, and an ingestion of unrelated documents must not
withdraw it. A later ask with the same key gets the reviewed answer, never across scopes.

What is served. The latest decision on the key (``ReviewQueue.decision_for``): an approval
serves the draft, a rewrite the reviewer's text (both as stored: redacted). A rejection serves
nothing, and withdraws any earlier approval of the key. Before serving, the passages the item
was drafted from are read again from the store with the asker's permission filter:

- a cited document whose content hash changed (re-ingested with new content) makes the answer
  stale: it is not served (the ask runs as usual and, if it degrades, is queued again);
- a passage that no longer exists, or that the asker may no longer read, is dropped (with its
  citation; the ``[n]`` in the text then has no citation);
- an answer that cited sources and has none of them left is not served.

Served answers are ``confident``, cost nothing, and carry ``reviewed`` (who, when, decision).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import sqlalchemy as sa

from kernel.digest import digest
from kernel.principal import Principal
from retrieval import schema
from retrieval.answer_types import Answer, AskFilters, ReviewedBy
from retrieval.citations import citation_for, cited_numbers, passage_for
from retrieval.context_builder import Source, source_of
from retrieval.filters import search_filter
from retrieval.fusion import Hit
from retrieval.response_cache import normalise_question
from retrieval.review import SERVED, ReviewItem, ReviewQueue
from retrieval.store.base import ScoredChunk, SearchFilter, StoreError

log = logging.getLogger("retrieval.reviewed")


@runtime_checkable
class ChunkSource(Protocol):
    """What re-checking a reviewed answer's passages needs of the store."""

    def chunks_of_doc(self, doc_id: str, flt: SearchFilter) -> list[ScoredChunk]: ...


def answer_key(
    question: str, filters: AskFilters, access_scope: Sequence[str], prompt_version: str
) -> str:
    return digest(
        {
            "q": normalise_question(question),
            "f": filters.model_dump(mode="json"),
            "scope": sorted(set(access_scope)),
            "prompt": prompt_version,
        }
    )


def passage_records(sources: Sequence[Source]) -> list[dict[str, Any]]:
    """What the review queue keeps of the sources (no texts: they are read again when served)."""
    return [
        {
            "n": s.n,
            "chunk_id": s.chunk_id,
            "chunk_ids": list(s.chunk_ids),
            "doc_id": s.doc_id,
            "title": s.title,
            "section": s.section,
            "source": s.source,
            "score": round(s.score, 6),
            "content_hash": s.content_hash,
        }
        for s in sources
    ]


class Stale(Exception):
    """A cited document changed since the answer was reviewed."""


class ReviewedAnswers:
    def __init__(self, queue: ReviewQueue, chunks: ChunkSource | None) -> None:
        self.queue = queue
        self.chunks = chunks

    def find(
        self,
        key: str,
        question: str,
        principal: Principal,
        filters: AskFilters,
        request_id: str,
    ) -> Answer | None:
        """The reviewed answer of ``key`` for this asker, or ``None`` (synchronous). A failing
        database or store is logged: the ask then goes on as if there were none."""
        try:
            item = self.queue.decision_for(key)
            if item is None or item.status not in SERVED or not (item.final_answer or "").strip():
                return None
            return self._answer(item, question, principal, filters, request_id)
        except Stale as exc:
            log.info("reviewed answer of %s not served: %s", key[:12], exc)
        except (sa.exc.SQLAlchemyError, StoreError):
            log.warning("reviewed answers: lookup failed", exc_info=True)
        return None

    def _answer(
        self,
        item: ReviewItem,
        question: str,
        principal: Principal,
        filters: AskFilters,
        request_id: str,
    ) -> Answer:
        text = (item.final_answer or "").strip()
        records = [p for p in item.passages if isinstance(p.get("n"), int)]
        cited = [n for n in cited_numbers(text) if any(p["n"] == n for p in records)]
        sources = self._sources(records, set(cited), search_filter(principal, filters))
        by_n = {s.n: s for s in sources}
        if cited and not any(n in by_n for n in cited):
            raise Stale(f"item {item.id}: none of its cited sources is left")
        assert item.reviewer is not None and item.decided_at is not None
        return Answer(
            question=question,
            answer=text,
            citations=[citation_for(by_n[n]) for n in cited if n in by_n],
            confident=True,
            passages=[passage_for(s) for s in sources],
            model=item.model if item.status == "approved" else None,
            prompt_version=item.prompt_version,
            request_id=request_id,
            reviewed=ReviewedBy(
                review_id=item.id,
                decision=item.status,
                reviewer=item.reviewer,
                decided_at=item.decided_at,
            ),
        )

    def _sources(
        self, records: list[dict[str, Any]], cited: set[int], flt: SearchFilter
    ) -> list[Source]:
        """The item's passages as they are now, for this asker (``Stale`` if a cited one
        changed); missing or no longer readable ones are left out."""
        if not records:
            return []
        if self.chunks is None:  # nothing to check them against: serve none of them
            if cited:
                raise Stale("no chunk store to check its cited sources against")
            return []
        visible: dict[str, dict[str, ScoredChunk]] = {}
        out: list[Source] = []
        for rec in records:
            doc_id = str(rec.get("doc_id", ""))
            if doc_id not in visible:
                found = self.chunks.chunks_of_doc(doc_id, flt) if doc_id else []
                visible[doc_id] = {c.id: c for c in found}
            ids = [str(i) for i in (rec.get("chunk_ids") or [rec.get("chunk_id")]) if i]
            chunks = [visible[doc_id][i] for i in ids if i in visible[doc_id]]
            if not chunks:
                continue
            was = rec.get("content_hash")
            now = {str(c.payload.get(schema.CONTENT_HASH, "")) for c in chunks}
            if rec["n"] in cited and was is not None and now != {str(was)}:
                raise Stale(f"cited document {doc_id!r} changed since the review")
            score = float(rec.get("score") or 0.0)
            hits = [Hit(id=c.id, score=score, payload=c.payload) for c in chunks]
            out.append(source_of(rec["n"], hits))
        return out
