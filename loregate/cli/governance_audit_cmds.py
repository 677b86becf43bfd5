"""CLI commands of governance: the audit log (verify, show, replay) and exports."""

from __future__ import annotations

import json
import sys
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import typer
from rich.table import Table

from loregate.cli.common import console, err_console, fail, friendly_errors, graph, run_async

if TYPE_CHECKING:
    from gateway.types import InvocationResult, ModelRequest
    from governance.parts import GovernanceParts

audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)
export_app = typer.Typer(help="Billing and invocation-log exports.", no_args_is_help=True)


def _parts() -> GovernanceParts:

    return graph().governance_parts


# Audit ----------------------------------------------------------------------------------------
@audit_app.command("verify")
@friendly_errors
def audit_verify(
    expect_head: str = typer.Option(
        None, "--expect-head", help="A head hash noted earlier: the chain must still contain it."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Check the chain; name every edited, deleted, inserted or reordered record (exit 1)."""
    from governance.audit_verify import verify

    report = verify(_parts().audit, expect_head=expect_head)
    if as_json:
        console.print_json(json.dumps(report.as_dict()))
    elif report.ok:
        console.print(
            f"[green]audit log OK[/]: {report.records} records, head #{report.head_seq} "
            f"{report.head_hash}"
        )
    else:
        for p in report.problems:
            rid = f" (request {p.request_id})" if p.request_id else ""
            err_console.print(f"[bold red]{p.kind.upper()}[/] record #{p.seq}{rid}: {p.message}")
        err_console.print(f"{len(report.problems)} problem(s) in {report.records} records")
    if not report.ok:
        raise typer.Exit(1)


@audit_app.command("show")
@friendly_errors
def audit_show(ident: str = typer.Argument(..., help="Record number or request id.")) -> None:
    """Print one audit record (already redacted) with its hashes."""
    e = _parts().audit.get(ident)
    console.print_json(
        json.dumps(
            {
                "seq": e.seq,
                "record_hash": e.record_hash,
                "prev_hash": e.prev_hash,
                "record": e.record,
            }
        )
    )


@audit_app.command("list")
@friendly_errors
def audit_list(limit: int = typer.Option(20, "--limit", min=1, max=1000)) -> None:
    """The latest records: number, time, caller, route, model, outcome, cost."""
    from gateway.pricing import format_usd

    table = Table("#", "time", "request", "user", "route", "answered by", "outcome", "cost")
    for e in _parts().audit.recent(limit):
        r = e.record
        table.add_row(
            str(e.seq),
            e.created_at.strftime("%Y-%m-%d %H:%M:%S"),
            e.request_id,
            r["principal"]["user"],
            str(r["route"]),
            str(r.get("answered_by") or "-"),
            r["outcome"],
            format_usd(int(r.get("cost_nano_usd") or 0)),
        )
    console.print(table)


def _recorded_request(record: dict[str, Any], route: str) -> ModelRequest:
    from governance.audit_replay import recorded_request
    from kernel.errors import InvalidRequest

    try:
        return recorded_request(record, route)
    except InvalidRequest as exc:
        raise fail(exc.message) from None


def _replay(request: ModelRequest, route: str) -> InvocationResult:
    from kernel.principal import LOCAL_OPERATOR

    async def go() -> InvocationResult:
        g = graph()
        try:
            return await g.gateway.invoke(
                request, principal=LOCAL_OPERATOR, route=route, source="cli"
            )
        finally:
            await g.aclose()

    result: InvocationResult = run_async(go())
    return result


def _text(content: Any) -> str:
    if not content:
        return ""
    return "".join(b.get("text", "") for b in content if isinstance(b, dict)) or json.dumps(
        content, ensure_ascii=False
    )


@audit_app.command("replay")
@friendly_errors
def audit_replay(
    ident: str = typer.Argument(..., help="Record number or request id."),
    route: str = typer.Option(..., "--route", "-r", help="Route or model alias to re-ask."),
) -> None:
    """Re-send a recorded (redacted) request through a route; show both answers side by side."""
    from gateway.pricing import format_usd

    entry = _parts().audit.get(ident)
    record = entry.record
    result = _replay(_recorded_request(record, route), route)
    table = Table("", f"recorded (#{entry.seq})", "replayed", show_lines=True)
    table.add_row("route", str(record.get("route")), result.route)
    table.add_row("model", str(record.get("answered_by") or "-"), result.response.model_alias)
    table.add_row("outcome", str(record.get("outcome")), "ok")
    table.add_row(
        "cost", format_usd(int(record.get("cost_nano_usd") or 0)), format_usd(result.cost_nano_usd)
    )
    table.add_row(
        "answer", _text((record.get("response") or {}).get("content")), result.response.text
    )
    console.print(table)
    console.print(f"[dim]replay request id {result.request_id}[/]")


# Exports --------------------------------------------------------------------------------------
def _out(path: Path | None) -> TextIO:
    if path is None:
        return sys.stdout
    try:
        return path.open("w", encoding="utf-8", newline="")
    except OSError as exc:
        raise fail(f"cannot write {path}: {exc.strerror}") from None


@export_app.command("billing")
@friendly_errors
def export_billing(
    start: str = typer.Option(None, "--from", help="Start date (UTC), default: 1st of month."),
    end: str = typer.Option(None, "--to", help="End date, inclusive (or an ISO time, exclusive)."),
    group_by: str = typer.Option(
        "department", "--group-by", help="department | project | user | model | route."
    ),
    fmt: str = typer.Option("csv", "--format", help="csv | jsonl."),
    output: Path = typer.Option(None, "--output", "-o", help="Write here instead of stdout."),  # noqa: B008
) -> None:
    """Cost and tokens per group; the total is checked against the ledger (nano-USD)."""
    from governance import exports
    from governance.budgets import nano_to_usd_str

    parts = _parts()
    lo, hi = exports.period(start, end)
    lines = exports.billing(parts.engine, lo, hi, group_by)
    money = partial(parts.in_currency, when=hi - timedelta(microseconds=1))
    rows = [line.as_dict(group_by, money) for line in lines]
    chunks = exports.render(rows, fmt, exports.billing_columns(group_by, currency=True))
    out = _out(output)
    try:
        for chunk in chunks:
            out.write(chunk)
    finally:
        if out is not sys.stdout:
            out.close()
    total = sum(line.cost_nano_usd for line in lines)
    ledger = exports.ledger_total_nano(parts.engine, lo, hi)
    check = "matches the ledger" if total == ledger else f"ledger says {ledger} nano-USD"
    err_console.print(
        f"{sum(line.requests for line in lines)} {'calls' if group_by == 'model' else 'requests'}"
        f", total ${nano_to_usd_str(total)} ({total} nano-USD): {check}"
    )
    if total != ledger:
        raise typer.Exit(1)


@export_app.command("calls")
@friendly_errors
def export_calls(
    start: str = typer.Option(None, "--from", help="Start date (UTC), default: 1st of month."),
    end: str = typer.Option(None, "--to", help="End date, inclusive (or an ISO time, exclusive)."),
    fmt: str = typer.Option("jsonl", "--format", help="csv | jsonl."),
    attempts: bool = typer.Option(False, "--attempts", help="Include each model attempt."),
    department: str = typer.Option(None, "--department"),
    project: str = typer.Option(None, "--project"),
    user: str = typer.Option(None, "--user"),
    route: str = typer.Option(None, "--route"),
    output: Path = typer.Option(None, "--output", "-o", help="Write here instead of stdout."),  # noqa: B008
) -> None:
    """The invocation log (ledger rows) for a period."""
    from governance import exports

    parts = _parts()
    lo, hi = exports.period(start, end)
    filters = {
        k: v
        for k, v in {
            "department": department,
            "project": project,
            "user": user,
            "route": route,
        }.items()
        if v
    }
    rows = exports.calls(parts.engine, lo, hi, attempts=attempts, filters=filters)
    chunks = exports.render(rows, fmt, [*exports.CALL_COLUMNS, "cost_usd"])
    out = _out(output)
    try:
        for chunk in chunks:
            out.write(chunk)
    finally:
        if out is not sys.stdout:
            out.close()


# The commands this module adds to `loregate` ----------------------------------------------
app = typer.Typer()

app.add_typer(audit_app, name="audit")
app.add_typer(export_app, name="export")
