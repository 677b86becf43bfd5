"""CLI commands of billing: ``loregate invoice ...`` and ``loregate billing ...``.

loregate invoice show --month 2026-06 --department eng [--format json|csv|html] [--out F]
loregate invoice list --month 2026-06                 every department's totals, the company's
loregate invoice close --month 2026-06                freeze it (hashes in the audit log)
loregate billing rates add CNY 7.2 --from 2026-06-01 --source "PBOC central parity"
loregate billing rates load rates.csv                 currency,per_usd,effective_from,source
loregate billing rates list
loregate billing focus --month 2026-06 [--format csv|jsonl] [--out F]
loregate billing savings --month 2026-06 [--scope department|project]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from governance.billing.money import format_money
from governance.billing.periods import Month
from loregate.cli.common import console, err_console, fail, friendly_errors, graph

if TYPE_CHECKING:
    from governance.billing.service import Billing

invoice_app = typer.Typer(
    help="Invoices per department or project and month.", no_args_is_help=True
)
billing_app = typer.Typer(
    help="Exchange rates, FOCUS exports and savings in the company currency.",
    no_args_is_help=True,
)
rates_app = typer.Typer(help="Pinned exchange rates (units per USD).", no_args_is_help=True)


def _billing() -> Billing:
    return graph().billing


def _emit(body: bytes, out: Path | None) -> None:
    if out is None:
        sys.stdout.buffer.write(body)
        sys.stdout.flush()
    else:
        out.write_bytes(body)


def _print_json(data: Any) -> None:
    console.print_json(json.dumps(data, default=str))


# Invoices -------------------------------------------------------------------------------------
@invoice_app.command("show")
@friendly_errors
def invoice_show(
    month: str = typer.Option(..., "--month", help="YYYY-MM (UTC)."),
    department: str = typer.Option(None, "--department", help="The department invoiced."),
    project: str = typer.Option(None, "--project", help="Or the project invoiced."),
    fmt: str = typer.Option("json", "--format", help="json | csv | html."),
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the document here (default: stdout).")
    ] = None,
) -> None:
    """One invoice; a closed month's is the stored document (same bytes, same sha256)."""
    if (department is None) == (project is None):
        raise fail("name one of --department or --project")
    scope, subject = ("department", department) if department is not None else ("project", project)
    doc = _billing().document(Month.parse(month), scope, subject, fmt)
    _emit(doc.body, out)
    state = "closed (stored)" if doc.closed else "open (computed now)"
    err_console.print(f"{scope} {subject} {month}: {state}, sha256 {doc.sha256}")


@invoice_app.command("list")
@friendly_errors
def invoice_list(
    month: str = typer.Option(..., "--month", help="YYYY-MM (UTC)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Every department's total and the company's (the sum of the departments' lines)."""
    summary = _billing().company(Month.parse(month))
    if as_json:
        _print_json(summary)
        return
    c = summary["currency"]
    table = Table("department", "requests", "USD", c)
    for d in summary["departments"]:
        table.add_row(
            d["subject"] or "-", str(d["requests"]), format_money(d["usd"], "USD"), d["display"]
        )
    t = summary["totals"]
    table.add_row("[bold]company[/]", "", format_money(t["usd"], "USD"), f"[bold]{t['display']}[/]")
    console.print(table)
    console.print("closed" if summary["closed"] else "open: figures move until the month closes")


@invoice_app.command("close")
@friendly_errors
def invoice_close(month: str = typer.Option(..., "--month", help="YYYY-MM (UTC).")) -> None:
    """Freeze a month: its invoices' bytes and sha256 are stored and audited."""
    result = _billing().close(Month.parse(month), by="cli")
    console.print(
        f"closed {result['month']}: {len(result['documents'])} documents, audit record "
        f"#{result['audit_seq']}, ledger rows up to id {result['ledger_watermark']}"
    )


# Rates ----------------------------------------------------------------------------------------
@rates_app.command("add")
@friendly_errors
def rates_add(
    currency: str = typer.Argument(..., help="ISO 4217 code, e.g. CNY."),
    per_usd: str = typer.Argument(..., help="Units of the currency one USD buys, e.g. 7.2."),
    effective_from: str = typer.Option(..., "--from", help="YYYY-MM-DD: in force from this day."),
    source: str = typer.Option(..., "--source", help="Where the rate comes from."),
) -> None:
    """Add a rate (only forward in time: never inside a closed month or before a later rate)."""
    rate = _billing().rates.add(currency, per_usd, effective_from, source)
    console.print(f"rate {rate.label} from {rate.source}")


@rates_app.command("load")
@friendly_errors
def rates_load(
    path: Annotated[Path, typer.Argument(help="CSV: currency,per_usd,effective_from,source.")],
) -> None:
    """Add every rate of a CSV file, all or none (rows already known are kept)."""
    added = _billing().rates.load_file(path)
    console.print(f"{len(added)} rate(s) added")


@rates_app.command("list")
@friendly_errors
def rates_list(currency: str = typer.Option(None, "--currency")) -> None:
    """Every rate, oldest first."""
    table = Table("currency", "per USD", "from", "source")
    for r in _billing().rates.history(currency):
        table.add_row(r.currency, str(r.per_usd), r.effective_from.isoformat(), r.source)
    console.print(table)


# Exports --------------------------------------------------------------------------------------
@billing_app.command("focus")
@friendly_errors
def billing_focus(
    month: str = typer.Option(..., "--month", help="YYYY-MM (UTC)."),
    fmt: str = typer.Option("csv", "--format", help="csv | jsonl."),
    out: Annotated[Path | None, typer.Option("--out", help="Write here (default: stdout).")] = None,
) -> None:
    """The month's ledger as a FOCUS 1.2 dataset."""
    _emit(_billing().focus(Month.parse(month), fmt), out)


@billing_app.command("savings")
@friendly_errors
def billing_savings(
    month: str = typer.Option(..., "--month", help="YYYY-MM (UTC)."),
    scope: str = typer.Option("department", "--scope", help="department | project."),
) -> None:
    """What the month's requests would have cost without caching and without the cascade."""
    _print_json(_billing().savings(Month.parse(month), scope))


billing_app.add_typer(rates_app, name="rates")
app = typer.Typer()
app.add_typer(invoice_app, name="invoice")
app.add_typer(billing_app, name="billing")
