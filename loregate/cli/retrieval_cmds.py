"""CLI commands of the `retrieval` part: ask, search, and the human review queue.

`ask` and `search` act as the local operator (public documents only) unless given a key
(`--key`, the key's rights) or an identity to act as (`--as-user`, `--as-department`,
`--as-groups`; the operator of the machine may test what a colleague would see).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table

from kernel.errors import InvalidRequest
from loregate.cli.common import console, fail, friendly_errors, graph, run_async
from loregate.graph import Loregate

if TYPE_CHECKING:
    from kernel.principal import Principal
    from retrieval.answer_types import Answer, AskFilters, Passage

review_app = typer.Typer(
    help="The human review queue: answers no model tier gave with confidence.",
    no_args_is_help=True,
)

KEY_OPT = typer.Option(None, "--key", help="Act with this API key's rights.")
AS_USER = typer.Option(None, "--as-user", help="Act as this user (operator testing).")
AS_DEPT = typer.Option(None, "--as-department", help="... in this department.")
AS_GROUPS = typer.Option("", "--as-groups", help="... with these groups (comma-separated).")
DOC_TYPE = typer.Option([], "--doc-type", help="contract | doc | ticket (repeatable).")
IN_DEPT = typer.Option([], "--in-department", help="Only documents of this department.")
TAG = typer.Option([], "--tag", help="Only documents with this tag (repeatable).")
FROM = typer.Option(None, "--updated-from", help="Only documents dated on/after YYYY-MM-DD.")
TO = typer.Option(None, "--updated-to", help="Only documents dated on/before YYYY-MM-DD.")


def _epoch(value: str | None, option: str) -> float | None:
    if not value:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC).timestamp()
    except ValueError:
        raise InvalidRequest(f"{option}: expected a date YYYY-MM-DD, got {value!r}") from None


def _filters(
    doc_type: list[str], dept: list[str], tag: list[str], since: str | None, until: str | None
) -> AskFilters:
    from retrieval.answer_types import AskFilters

    return AskFilters(
        doc_types=doc_type,
        departments=dept,
        tags=tag,
        updated_from=_epoch(since, "--updated-from"),
        updated_to=_epoch(until, "--updated-to"),
    )


def _principal(key: str | None, user: str | None, dept: str | None, groups: str) -> Principal:
    from kernel.principal import LOCAL_OPERATOR, Principal

    if key:
        if user or dept or groups:
            raise InvalidRequest("--key and --as-* options exclude each other")
        return graph().governance_parts.keys.lookup(key.strip())
    if not (user or dept or groups):
        return LOCAL_OPERATOR
    return Principal(
        user_id=user or LOCAL_OPERATOR.user_id,
        department=dept or "",
        groups=tuple(g.strip() for g in groups.split(",") if g.strip()),
    )


def print_answer(answer: Answer) -> None:
    """The answer, its sources, the tier that answered, tokens and cost."""
    if answer.degraded:
        console.print(f"[bold yellow]{answer.degraded.replace('_', ' ').upper()}[/]")
    if answer.reviewed:
        r = answer.reviewed
        console.print(
            f"[bold green]REVIEWED[/] {r.decision} by {r.reviewer} on "
            f"{r.decided_at:%Y-%m-%d %H:%M} UTC (review {r.review_id})"
        )
    console.print(answer.answer)
    if answer.citations:
        table = Table(title="Sources", show_lines=False)
        for col in ("n", "title", "clause / section", "source", "chunk", "score"):
            table.add_column(col)
        for c in answer.citations:
            table.add_row(str(c.n), c.title, c.section, c.source, c.chunk_id[:8], f"{c.score:.3f}")
        console.print(table)
    t = answer.tokens
    who = f"tier {answer.tier} ({answer.model})" if answer.model else "no model"
    if answer.reviewed:
        who = "human review" + (f" of a {answer.model} draft" if answer.model else "")
    console.print(
        f"[dim]{who} · tokens in {t.input} / out {t.output} / cache write {t.cache_write} / "
        f"cache read {t.cache_read} · ${answer.cost_usd:.6f} · {answer.latency_ms:.0f} ms"
        f"{' · cached' if answer.cached else ''} · prompt {answer.prompt_version}[/]"
    )
    for step in answer.escalations:
        if step.outcome != "ok":
            console.print(
                f"[dim]  tier {step.tier} {step.model}: {step.outcome}"
                f"{f' ({step.reason})' if step.reason else ''}, ${step.cost_usd:.6f}[/]"
            )
    if answer.review_id:
        console.print(f"[dim]queued for human review: {answer.review_id}[/]")


def _passages_table(passages: list[Passage]) -> Table:
    table = Table(title="Passages")
    for col in ("#", "score", "title", "clause / section", "source", "text"):
        table.add_column(col)
    for i, p in enumerate(passages, start=1):
        text = " ".join(p.text.split())
        table.add_row(
            str(i),
            f"{p.score:.3f}",
            p.title,
            p.section,
            p.source,
            text[:160] + ("…" if len(text) > 160 else ""),
        )
    return table


def _run(coro_fn: Any) -> Any:
    async def go() -> Any:
        g = graph()
        try:
            return await coro_fn(g)
        finally:
            await g.aclose()

    return run_async(go())


def _queue() -> Any:

    return graph().review_queue


def _print_item(item: Any) -> None:
    d = item.to_dict()
    console.print_json(json.dumps(d, default=str))


@review_app.command("list")
@friendly_errors
def review_list(
    status: str = typer.Option("queued", help="queued | approved | rejected | rewritten | all"),
    limit: int = typer.Option(50, help="At most this many (1-500)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List review items (oldest first) and the rejection and rewrite rates."""
    q = _queue()
    items = q.list(None if status == "all" else status, limit)
    stats = q.stats()
    if as_json:
        console.print_json(json.dumps([i.to_dict() for i in items], default=str))
        return
    table = Table(title=f"Review queue ({status})")
    table.add_column("id", no_wrap=True)
    for col in ("created", "status", "asker", "reason", "question"):
        table.add_column(col)
    for i in items:
        table.add_row(
            i.id,
            i.created_at.strftime("%Y-%m-%d %H:%M"),
            i.status,
            i.asker_user_id,
            i.reason,
            i.question[:80],
        )
    console.print(table)
    console.print(
        f"rejection rate {stats.rejection_rate:.0%} · rewrite rate {stats.rewrite_rate:.0%} · "
        f"counts {stats.counts}"
    )


@review_app.command("show")
@friendly_errors
def review_show(item_id: str = typer.Argument(..., help="The review item's id.")) -> None:
    """One review item in full."""
    _print_item(_queue().get(item_id))


@review_app.command("approve")
@friendly_errors
def review_approve(
    item_id: str = typer.Argument(..., help="The review item's id."),
    note: str = typer.Option("", help="Why."),
) -> None:
    """Approve the drafted answer."""
    _print_item(_queue().approve(item_id, reviewer="local-operator", note=note))


@review_app.command("reject")
@friendly_errors
def review_reject(
    item_id: str = typer.Argument(..., help="The review item's id."),
    note: str = typer.Option("", help="Why."),
) -> None:
    """Reject the drafted answer."""
    _print_item(_queue().reject(item_id, reviewer="local-operator", note=note))


@review_app.command("rewrite")
@friendly_errors
def review_rewrite(
    item_id: str = typer.Argument(..., help="The review item's id."),
    answer: str = typer.Option(..., "--answer", help="The corrected answer."),
    note: str = typer.Option("", help="Why."),
) -> None:
    """Replace the drafted answer with a reviewer's own."""
    _print_item(_queue().rewrite(item_id, reviewer="local-operator", answer=answer, note=note))


# The commands this module adds to `loregate` ----------------------------------------------
app = typer.Typer()


@app.command()
@friendly_errors
def ask(
    question: str = typer.Argument(..., help="The question."),
    route: str = typer.Option(None, "--route", "-r", help="Route or model alias."),
    key: str = KEY_OPT,
    as_user: str = AS_USER,
    as_department: str = AS_DEPT,
    as_groups: str = AS_GROUPS,
    doc_type: list[str] = DOC_TYPE,
    in_department: list[str] = IN_DEPT,
    tag: list[str] = TAG,
    updated_from: str = FROM,
    updated_to: str = TO,
    as_json: bool = typer.Option(False, "--json", help="Print the Answer as JSON."),
) -> None:
    """Ask a question: a cited answer with its sources, tier and cost."""
    if not question.strip():
        raise fail("the question is empty")
    flt = _filters(doc_type, in_department, tag, updated_from, updated_to)
    principal = _principal(key, as_user, as_department, as_groups)

    async def go(c: Loregate) -> Answer:
        return await c.answer_service().ask(
            question, principal=principal, filters=flt, route=route, source="cli"
        )

    answer: Answer = _run(go)
    if as_json:
        console.print_json(answer.model_dump_json())
    else:
        print_answer(answer)


@app.command()
@friendly_errors
def search(
    query: str = typer.Argument(..., help="What to look for."),
    top_k: int = typer.Option(5, "--top-k", "-k", help="How many passages (1-100)."),
    key: str = KEY_OPT,
    as_user: str = AS_USER,
    as_department: str = AS_DEPT,
    as_groups: str = AS_GROUPS,
    doc_type: list[str] = DOC_TYPE,
    in_department: list[str] = IN_DEPT,
    tag: list[str] = TAG,
    updated_from: str = FROM,
    updated_to: str = TO,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Search passages (no model call), with the same permission filter as `ask`."""
    if not query.strip():
        raise fail("the query is empty")
    flt = _filters(doc_type, in_department, tag, updated_from, updated_to)
    principal = _principal(key, as_user, as_department, as_groups)

    async def go(c: Loregate) -> list[Passage]:
        return await c.answer_service().search(query, principal=principal, filters=flt, top_k=top_k)

    passages: list[Passage] = _run(go)
    if as_json:
        console.print_json(json.dumps([p.model_dump() for p in passages]))
    elif not passages:
        console.print("no passage you may read matches")
    else:
        console.print(_passages_table(passages))


app.add_typer(review_app, name="review")
