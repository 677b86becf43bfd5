"""An invoice as bytes: JSON (canonical), CSV (one row per line) and printable HTML.

Rendering is a pure function of the invoice: no clock, no locale, sorted keys, ``\\n`` line
ends, so the same ledger rows and rates give the same bytes (and the same sha256) every time.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from html import escape
from typing import Any, Literal

from governance.billing.invoices import KIND_LABELS, Invoice, InvoiceLine
from governance.billing.money import format_money

Format = Literal["json", "csv", "html"]
FORMATS: tuple[Format, ...] = ("json", "csv", "html")
MEDIA: dict[str, str] = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "html": "text/html; charset=utf-8",
}
CSV_COLUMNS = (
    "invoice",
    "month",
    "scope",
    "subject",
    "line_type",
    "correction_of",
    "tag",
    "model",
    "token_kind",
    "requests",
    "tokens",
    "nano_usd",
    "usd",
    "rate",
    "rate_effective_from",
    "rate_source",
    "amount",
    "currency",
)


def sha256(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def render(invoice: Invoice, fmt: str) -> bytes:
    if fmt == "json":
        return to_json(invoice)
    if fmt == "csv":
        return to_csv(invoice)
    if fmt == "html":
        return to_html(invoice)
    raise ValueError(f"unknown invoice format {fmt!r} (one of: {', '.join(FORMATS)})")


def to_json(invoice: Invoice) -> bytes:
    text = json.dumps(invoice.as_dict(), sort_keys=True, ensure_ascii=False, indent=2)
    return (text + "\n").encode("utf-8")


def _csv_row(invoice: Invoice, line: InvoiceLine, line_type: str) -> list[str]:
    return [
        invoice.number,
        str(invoice.month),
        invoice.scope,
        invoice.subject,
        line_type,
        line.correction_of,
        line.tag,
        line.model,
        line.kind,
        str(line.requests),
        str(line.tokens),
        str(line.nano_usd),
        str(line.usd),
        str(line.rate.per_usd),
        line.rate.effective_from.isoformat(),
        line.rate.source,
        str(line.amount),
        invoice.currency,
    ]


def to_csv(invoice: Invoice) -> bytes:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for line in invoice.lines:
        w.writerow(_csv_row(invoice, line, "charge"))
    for line in invoice.corrections:
        w.writerow(_csv_row(invoice, line, "debit" if line.nano_usd >= 0 else "credit"))
    total = [invoice.number, str(invoice.month), invoice.scope, invoice.subject, "total"]
    total += ["", "", "", "", str(invoice.requests), ""]
    total += [str(invoice.total_nano_usd), str(invoice.total_usd), "", "", ""]
    total += [str(invoice.total_amount), invoice.currency]
    w.writerow(total)
    return out.getvalue().encode("utf-8")


def _rows(invoice: Invoice, lines: list[InvoiceLine]) -> str:
    c = invoice.currency
    return "".join(
        "<tr>"
        f"<td>{escape(line.correction_of or '')}</td><td>{escape(line.tag or '-')}</td>"
        f"<td>{escape(line.model)}</td><td>{escape(KIND_LABELS.get(line.kind, line.kind))}</td>"
        f"<td class=n>{line.requests:,}</td><td class=n>{line.tokens:,}</td>"
        f"<td class=n>{format_money(line.usd, 'USD')}</td>"
        f"<td class=n>{line.rate.per_usd} <small>from {line.rate.effective_from}</small></td>"
        f"<td class=n>{escape(format_money(line.amount, c))}</td>"
        "</tr>\n"
        for line in lines
    )


_STYLE = (
    "body{font-family:sans-serif;margin:2em;color:#111}table{border-collapse:collapse;"
    "width:100%}td,th{border-bottom:1px solid #ccc;padding:4px 6px;text-align:left}"
    ".n{text-align:right}@media print{body{margin:0}}"
)
_HEAD = (
    "<tr><th>correction of</th><th>tag</th><th>model</th><th>kind</th><th class=n>requests</th>"
    "<th class=n>tokens</th><th class=n>USD</th><th class=n>rate</th><th class=n>amount</th></tr>"
)


_COUNTERFACTUALS = (
    ("without_prompt_cache", "without prompt caching (cache reads and writes as input)"),
    ("final_tier_only", "each request only on the tier that answered it"),
    ("always_reference", "every request answered once by the reference model"),
    ("without_response_cache", "without the response cache (its hits paid again)"),
)


def _savings_html(s: dict[str, Any]) -> str:
    """The appendix: what the same requests would have cost (USD, from the ledger rows)."""
    rows = "".join(
        f"<tr><td>{escape(label)}</td>"
        f"<td class=n>{format_money(s[key]['usd'], 'USD')}</td>"
        f"<td class=n>{format_money(s[key]['saved_usd'], 'USD')}</td>"
        f"<td class=n>{s[key]['saved_ratio']:.1%}</td></tr>\n"
        for key, label in _COUNTERFACTUALS
        if isinstance(s.get(key), dict)
    )
    return (
        "<h2>Appendix: savings</h2>\n"
        f"<p>{s['requests']:,} requests ({s['escalated_requests']:,} escalated) cost "
        f"{format_money(s['actual_usd'], 'USD')}; cache reads were "
        f"{s['cache_read_share']:.1%} of input tokens; tiers past the first took "
        f"{s['later_tiers_share']:.1%} of the cost.</p>\n<table>\n<tr><th>the same requests"
        "</th><th class=n>would have cost</th><th class=n>saved</th><th class=n>saved %</th>"
        f"</tr>\n{rows}</table>\n"
    )


def to_html(invoice: Invoice) -> bytes:
    inv, c = invoice, invoice.currency
    savings = _savings_html(inv.savings) if inv.savings else ""
    corrections = ""
    if inv.corrections:
        corrections = (
            f"<h2>Corrections to closed months</h2>\n<table>\n{_HEAD}\n"
            f"{_rows(inv, inv.corrections)}</table>\n"
        )
    page = (
        "<!DOCTYPE html>\n<html><head><meta charset=utf-8>"
        f"<title>{escape(inv.number)}</title><style>{_STYLE}</style></head><body>\n"
        f"<h1>Invoice {escape(inv.number)}</h1>\n"
        f"<p>{escape(inv.issuer)} &middot; {inv.scope} <b>{escape(inv.subject or '(none)')}</b>"
        f" &middot; {inv.month} ({'closed' if inv.closed else 'open'})</p>\n"
        f"<table>\n{_HEAD}\n{_rows(inv, inv.lines)}</table>\n{corrections}"
        f"<p>Total: <b>{escape(format_money(inv.total_amount, c))}</b> "
        f"({escape(format_money(inv.total_usd, 'USD'))}; {inv.total_nano_usd:,} nano-USD; "
        f"{inv.requests:,} requests)</p>\n"
        "<p><small>Each line is rounded once to the currency's minor unit (half to even); "
        "totals are sums of lines. Rates are pinned: each line names the rate in force.</small>"
        f"</p>\n{savings}</body></html>\n"
    )
    return page.encode("utf-8")
